// The real @sentry/node SDK as a client of relay-mock: captures an exception inside a
// transaction, flushes, and prints what it sent as one JSON line.
//
//   NODE_PATH=<cache>/node_modules node node_client.cjs DSN RELEASE [stream|static] [SPOTLIGHT_URL]
//
// The third argument is the trace lifecycle: "stream" (the SDK's default since v11) sends
// spans as `span` items, "static" sends the classic `transaction` item. The fourth, when given,
// is the SDK's `spotlight` option (a sidecar's /stream URL); DSN may then be "" (none).
const Sentry = require("@sentry/node");

const [dsn, release, lifecycle = "stream", spotlight] = process.argv.slice(2);
const options = { dsn: dsn || undefined, release, environment: "sandbox", tracesSampleRate: 1.0, traceLifecycle: lifecycle };
if (spotlight) options.spotlight = spotlight;
Sentry.init(options);

class PaymentDeclined extends Error {}

function charge(amount) {
  throw new PaymentDeclined(`card declined for ${amount} EUR`);
}

const sent = Sentry.startSpan({ name: "POST /checkout", op: "http.server" }, (span) => {
  const traceId = span.spanContext().traceId;
  try {
    charge(42);
  } catch (error) {
    return { eventId: Sentry.captureException(error), traceId };
  }
  return { traceId };
});

Sentry.flush(10000).then((flushed) => {
  console.log(JSON.stringify({ ...sent, flushed, sdk: Sentry.SDK_VERSION }));
  process.exit(flushed ? 0 : 1);
});
