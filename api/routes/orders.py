"""Orders: create one (reserving stock in downstream) and read it back."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request

from api.inventory_client import InventoryClient
from api.models import Order
from api.schemas import ORDER_EXAMPLES, OrderCreate, OrderRead
from servicekit import telemetry
from servicekit.db import SessionDep
from servicekit.faults import FAULT_HEADER, apply_faults
from servicekit.http_errors import Conflict, NotFound, ServiceError
from servicekit.request_span import current_trace_id
from servicekit.telemetry import OrderOutcome


def _inventory(request: Request) -> InventoryClient:
    client: InventoryClient = request.app.state.inventory
    return client


InventoryDep = Annotated[InventoryClient, Depends(_inventory)]

router = APIRouter(prefix="/orders", tags=["orders"], dependencies=[Depends(apply_faults)])


@router.post("", status_code=201, response_model=OrderRead)
async def create_order(
    body: Annotated[OrderCreate, Body(openapi_examples=ORDER_EXAMPLES)],
    request: Request,
    session: SessionDep,
    inventory: InventoryDep,
) -> Order:
    """Store the order, reserve its stock in downstream, and confirm it.

    Out of stock answers 409 (an expected outcome, not a Sentry error); a failing
    downstream answers 502/503/504 and is reported to Sentry once.
    """
    order = Order(
        id=uuid.uuid4(),
        sku=body.sku,
        quantity=body.quantity,
        customer=body.customer,
        status="pending",
        trace_id=current_trace_id(),
    )
    session.add(order)
    await session.commit()
    telemetry.order_placed(str(order.id), body.sku, body.quantity)
    outcome = OrderOutcome.FAILED
    started = time.perf_counter()
    try:
        order.reservation_id = await inventory.reserve(
            order.id, body.sku, body.quantity, fault=request.headers.get(FAULT_HEADER)
        )
        order.status, outcome = "confirmed", OrderOutcome.CONFIRMED
    except Conflict:
        order.status, outcome = "rejected", OrderOutcome.REJECTED
        raise
    except NotFound:
        # Unknown SKU: the order fails as before, but downstream answered as it should.
        order.status, outcome = "failed", OrderOutcome.REJECTED
        raise
    except ServiceError:
        order.status = "failed"
        raise
    finally:
        telemetry.order_finished(str(order.id), outcome, (time.perf_counter() - started) * 1000)
        await session.commit()
    return order


@router.get("/{order_id}", response_model=OrderRead)
async def read_order(order_id: uuid.UUID, session: SessionDep) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order
