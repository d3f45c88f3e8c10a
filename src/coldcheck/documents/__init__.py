"""Documents: PDF reports (the daily report with its signed checkpoint), made from
the ledger through the store and the services."""

from .daily import CHECKPOINT_REASON, DailyReport, daily_report, default_day, parse_day
from .evidence import EvidencePackage, evidence_package
from .pdf import check_paper, render_html, render_pdf

__all__ = ["CHECKPOINT_REASON", "DailyReport", "EvidencePackage", "check_paper",
           "daily_report", "default_day", "evidence_package", "parse_day", "render_html",
           "render_pdf"]
