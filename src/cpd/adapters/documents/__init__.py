"""Documents the platform renders: certificate PDFs (Typst), QR codes, calendars."""
