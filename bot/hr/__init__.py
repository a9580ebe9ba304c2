"""Anonymised aggregates for HR: the workforce roster, the quarterly report, and the disclosure
control every HR output passes through (`disclosure.py`). See docs/hr_reports.md.
"""
