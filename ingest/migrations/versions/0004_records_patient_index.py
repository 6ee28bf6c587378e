"""records: index (clinic_id, patient_id, created_at) for the prior-ECG look-up

Revision ID: 0004_records_patient_index
Revises: 0003_results_history
Create Date: 2026-11-23 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0004_records_patient_index"
down_revision = "0003_results_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_records_clinic_patient_created", "records", ["clinic_id", "patient_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_records_clinic_patient_created", table_name="records")
