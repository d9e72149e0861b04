## Reader pages (templates/pages/): shared wording, the newsletter, donor and privacy pages,
## and the API reference page.

page-back-to = Back to { $site }
page-link-not-valid-title = Link not valid
page-link-not-valid-heading = This link is not valid
page-your-data = Your data
page-download-my-data = Download my data
page-download-my-data-hint = We email { $email } a link to everything we hold about it, as one JSON file.
page-delete-my-data = Delete my data
page-language-heading = Language
page-language-label = Pages and emails in
page-language-save = Save language
page-language-hint = Our emails to you follow this choice.
page-language-saved = Your language is saved.

## Newsletter confirmation and preferences

nl-confirm-heading = Confirm your subscription
nl-confirm-already = This address is already confirmed. Thank you!
nl-confirm-intro = Press the button to receive the { $site } newsletter at
nl-confirm-button = Confirm subscription
nl-confirm-hint = You can unsubscribe at any time with the link at the bottom of every newsletter.
nl-confirmed-heading = You're subscribed
nl-confirmed-text = Thank you! { $email } will receive the { $site } newsletter.
nl-confirmed-hint = Every newsletter has a link to change your lists or unsubscribe.
nl-not-found-text = The link is unknown or has expired. Confirmation links work for { $days ->
    [one] { $days } day
   *[other] { $days } days
}; sign up again to get a new one.
nl-prefs-heading = Your newsletter subscription
nl-prefs-for = Settings for
nl-prefs-unsubscribed = You are unsubscribed and receive no newsletter from us.
nl-prefs-unsubscribe = Unsubscribe
nl-prefs-unsubscribe-hint = Unsubscribes this address from every list.
nl-prefs-lists-heading = Or choose your lists
nl-prefs-save-lists = Save my lists
nl-prefs-lists-hint = Leaving every box empty unsubscribes you from everything.
nl-delete-my-data-hint = We email you a link to confirm; nothing is deleted before you follow it.
nl-unsubscribed-heading = You're unsubscribed
nl-unsubscribed-text = { $email } will receive no more newsletters from { $site }.
nl-lists-saved-title = Lists saved
nl-lists-saved-heading = Your lists are saved
nl-lists-saved-text = { $email } receives: { $lists }.
nl-change-lists = Change your lists

## The donor's pages

donor-link-expired-title = Link expired
donor-link-expired-heading = This link has expired
donor-link-expired-text = Links to your donations work for a limited time. Ask for a new one where you gave, and we will email it to you.
donor-manage-title = Your donations
donor-manage-given-with = Given with { $email }.
donor-manage-cancelled = Your monthly gift is cancelled. No further payments will be taken after the current period.
donor-manage-paused = Your monthly gift is paused. Nothing will be taken until it resumes.
donor-manage-resumed = Your monthly gift is resumed.
donor-manage-changed = Your monthly amount is changed from the next payment on.
donor-col-date = Date
donor-col-amount = Amount
donor-col-frequency = Frequency
donor-col-status = Status
donor-col-receipt = Receipt
donor-monthly = Monthly
donor-one-time = One-time
donor-status = { $status ->
    [pending] Pending
    [pledged] Pledged
    [paid] Paid
    [failed] Failed
    [refunded] Refunded
    [disputed] Disputed
   *[other] { $status }
}
donor-monthly-cancelled = (cancelled)
donor-monthly-paused = (paused)
donor-monthly-paused-until = (paused until { $date })
donor-update-card = Update card
donor-new-amount = New monthly amount ({ $currency })
donor-change-amount = Change amount
donor-pause-for = Pause for
donor-months = { $count ->
    [one] { $count } month
   *[other] { $count } months
}
donor-pause = Pause
donor-resume = Resume now
donor-cancel-monthly = Cancel monthly gift
donor-no-donations = There are no donations with this address.
donor-statements-heading = Yearly statements
donor-statement-printable = printable page
donor-statement-csv = CSV
donor-delete-my-data-hint = We email you a link to confirm; nothing is deleted before you follow it. Amounts and dates of gifts are kept, without your name or address, for accounting.
donor-statement-title = Donation statement { $year }
donor-statement-tax-id = Tax id { $id }
donor-statement-intro = Gifts received from { $email } between { $from } and { $to }.
donor-statement-refunded = ({ $amount } refunded)
donor-statement-total = Total received:
donor-statement-none = No gifts were received in this period.
donor-statement-no-goods = No goods or services were provided in exchange for these contributions.
donor-thanks-title = Thank you
donor-thanks-cancelled-heading = Your donation was not completed
donor-thanks-cancelled-text = Nothing was charged. You can go back and try again whenever you like.
donor-thanks-one-time = Your donation of { $amount } supports independent journalism. Your receipt is on its way by email.
donor-thanks-monthly = Your monthly donation of { $amount } supports independent journalism. Your receipt is on its way by email.
donor-thanks-generic = Your support makes our journalism possible.

## "Download my data" and "Delete my data"

privacy-check-inbox = Check your inbox
privacy-delete-heading = Delete your data
privacy-delete-what = Everything { $site } holds about { $email } will be deleted: your newsletter subscription, your comments and any feedback that names you, your job applications and their CVs, and the emails we sent you.
privacy-delete-kept = We keep the amounts and dates of your donations, without your name or address, because accounting law requires it. Any monthly gift is stopped. The address stays blocked from our newsletter, so nobody can sign it up again.
privacy-delete-final = This cannot be undone.
privacy-delete-requested = We emailed a link to { $email }. Open it and press the button on that page to delete your data.
privacy-delete-requested-hint = Nothing is deleted before that. The link works for { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
} and only once. Asked several times within a few minutes, we send only one email.
privacy-export-requested = We emailed a link to { $email }. It downloads everything we hold about you, as one JSON file.
privacy-export-requested-hint = The link works for { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}. Asked several times within a few minutes, we send only one email.
privacy-deleted-heading = Your data is deleted
privacy-deleted-text = We deleted everything we held about your address, except the anonymous amounts and dates of donations that accounting law requires us to keep.
privacy-deleted-hint = We will not email you again.
privacy-link-expired-text = The link is unknown, was already used, or has expired. Open the page you came from again (from a newsletter, or a new link to your donations) and ask once more.

## The API reference page (/api)

api-title = API reference
api-intro-document = This page is drawn from the machine-readable OpenAPI 3.1 document, which generated clients should read:
api-intro-token = Staff operations take a personal API token:
api-intro-problems = Every error is a problem document:
api-contents = Contents
api-schemas = Schemas
api-operation-id = Operation id
api-needs-token = needs a staff API token
api-required = (required)
api-body = Body:
api-col-parameter = parameter
api-col-in = in
api-col-schema = schema
api-col-meaning = meaning
api-col-status = status
api-col-body = body
api-col-field = field
