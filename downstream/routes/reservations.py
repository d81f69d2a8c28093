"""Reservations: take stock for an order, atomically, or refuse with 409."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from sqlalchemy import select, update

from downstream.models import Reservation, Stock
from downstream.next_hop import NextHop
from downstream.schemas import (
    RESERVATION_EXAMPLES,
    SKU_EXAMPLES,
    ReservationCreate,
    ReservationRead,
    StockRead,
)
from servicekit import telemetry
from servicekit.db import SessionDep
from servicekit.faults import apply_faults
from servicekit.http_errors import NotFound, OutOfStock

router = APIRouter(tags=["inventory"], dependencies=[Depends(apply_faults)])


@router.post("/reservations", status_code=201, response_model=ReservationRead)
async def create_reservation(
    body: Annotated[ReservationCreate, Body(openapi_examples=RESERVATION_EXAMPLES)],
    session: SessionDep,
    request: Request,
) -> Reservation:
    """Take `quantity` of `sku` from stock in one statement (no lost updates under load)."""
    next_hop: NextHop | None = getattr(request.app.state, "next_hop", None)
    if next_hop is not None:  # NEXT_HOP_URL: the trace goes on to a third service
        await next_hop.look_up_stock(body.sku)
    taken = await session.execute(
        update(Stock)
        .where(Stock.sku == body.sku, Stock.available >= body.quantity)
        .values(available=Stock.available - body.quantity)
        .returning(Stock.available)
    )
    row = taken.first()
    if row is None:
        await session.rollback()
        stock = await session.get(Stock, body.sku)
        if stock is None:
            raise NotFound(f"unknown sku {body.sku}")
        telemetry.stock_short(body.sku, body.quantity, stock.available)
        raise OutOfStock(f"not enough {body.sku} in stock for {body.quantity}", sku=body.sku)
    reservation = Reservation(id=uuid.uuid4(), order_id=body.order_id, sku=body.sku, quantity=body.quantity)
    session.add(reservation)
    await session.commit()
    telemetry.stock_reserved(body.sku, body.quantity, row.available)
    return reservation


@router.get("/reservations/{reservation_id}", response_model=ReservationRead)
async def read_reservation(reservation_id: uuid.UUID, session: SessionDep) -> Reservation:
    reservation = await session.get(Reservation, reservation_id)
    if reservation is None:
        raise NotFound(f"no reservation {reservation_id}")
    return reservation


@router.get("/stock/{sku}", response_model=StockRead)
async def read_stock(sku: Annotated[str, Path(openapi_examples=SKU_EXAMPLES)], session: SessionDep) -> Stock:
    stock = (await session.execute(select(Stock).where(Stock.sku == sku))).scalar_one_or_none()
    if stock is None:
        raise NotFound(f"unknown sku {sku}")
    return stock
