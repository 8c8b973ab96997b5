"""Files in and out: reading uploads, the roster template and failed-rows file, workbook load, exports (CSV, Excel, PDF), certificates, transcripts and a member's own archive."""
