"""Why a request was refused, in Relay's JSON shape: {"detail", "causes"}."""

from __future__ import annotations


class IngestError(Exception):
    """A refusal: an HTTP status, a one-line detail, and the chain of causes.

    `reason` is a stable machine name used in statistics (refusals by reason).
    """

    status = 400
    reason = "bad_request"

    def __init__(self, detail: str, *causes: str, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.causes = list(causes)
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason

    def body(self) -> dict[str, object]:
        return {"detail": self.detail, "causes": self.causes}


class MalformedEnvelope(IngestError):
    status = 400
    reason = "malformed_envelope"


class UndecodableBody(IngestError):
    status = 400
    reason = "undecodable_body"


class UnsupportedEncoding(IngestError):
    status = 415
    reason = "unsupported_encoding"


class PayloadTooLarge(IngestError):
    status = 413
    reason = "too_large"


class AuthError(IngestError):
    status = 401
    reason = "auth"


class ProjectRejected(IngestError):
    status = 403
    reason = "unknown_project"
