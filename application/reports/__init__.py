"""The ledger's reports for oversight bodies: a case dossier, the Trade Compliance and
Enforcement Plan, and the annual report. Builders gather the figures (from the views and
results tables, as of a stated position in the log) into a `ReportDocument`; a renderer
(infrastructure.pdf_render) turns it into a PDF/A-3b; the archive keeps every issued one
by its SHA-256 with a `ReportIssued` event."""
