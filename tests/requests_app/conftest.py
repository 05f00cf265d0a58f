"""Fixtures the desk, evidence and proof tests share with test_admin (a data set, a superuser, staff)."""

from .test_admin import dataset, staff_without_group, superuser

__all__ = ["dataset", "staff_without_group", "superuser"]
