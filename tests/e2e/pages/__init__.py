"""Page objects of the browser journeys, one module per module of the app.

What a person sees and does on each screen, found by role and accessible name or label (as a screen
reader would), or by the text a person reads; never by CSS class or id, except where the template
offers nothing accessible (each such place says why in a comment). Assertions use expect(), which
retries until the page agrees or the timeout passes (htmx swaps land a moment after a keystroke).

    layout       the shell: top bar and its navigation, dashboard, error page; shared helpers
    auth         first-run setup, login with the PIN keypad, changing the PIN
    master       staff, spare parts (/master)
    oem          the vehicle catalog: OEMs, models, variants, prices (/oem)
    inventory    vehicle and parts stock, counts, part labels (/inventory)
    procurement  purchase orders and goods receipts (/procurement)
    sales        leads (/crm), quotations, bookings, the sale page, the pipeline (/sales)
    billing      tax invoices, receipts, the sales register, counter sales (/billing)
    insurance    the policy recorded for a sale (/insurance)
    service      the workshop: arrival, job cards, readings, the board, the vehicle page (/service)
    service_work a job card's estimate, the customer's approval, parts issued, my work (/service)
    warranty     cover check, extended plans, recall campaigns (/warranty)

tests/e2e/test_page_objects.py keeps them here: no class, no CSS locator and no page helper in a test.
"""
