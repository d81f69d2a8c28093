"""catalog's table, in its own Postgres schema: how many of each SKU the catalog lists."""

from __future__ import annotations

from sqlalchemy import BigInteger, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData(schema="catalog")


class Item(Base):
    __tablename__ = "items"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    available: Mapped[int] = mapped_column(BigInteger)
