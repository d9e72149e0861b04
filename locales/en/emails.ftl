## Emails to readers, donors and applicants (the staff's stay English). Each email's
## messages start with its name; `email-` ones are shared.

email-your-reference = Your reference: { $reference }
email-donation-reference = Your donation reference: { $reference }
email-see-donations = See your donations
email-receipt-on-arrival = Once the money arrives we will send you a receipt.
email-how-to-pay = How to pay
email-given-memory = in memory of the person you named
email-given-honour = in honour of the person you named

## The pledge of the manual payment provider.

pledge-subject = { $site }: how to complete your { $monthly ->
    [yes] monthly donation
   *[other] donation
} of { $total }
pledge-thanks = { $monthly ->
    [yes] Thank you for pledging a monthly gift of { $total } to { $site }
   *[other] Thank you for pledging { $total } to { $site }
}
pledge-given = , given { $given }
pledge-fee = That is { $amount } for our journalism plus { $fee } to cover processing fees.

## The monthly reminder of a pledged monthly gift.

manual-reminder-subject = { $site }: your monthly gift of { $total } for { $month }
manual-reminder-intro = This is the monthly reminder for the gift of { $total } you pledged to { $site }: thank you for supporting our journalism.
manual-reminder-how-to-pay = How to pay for { $month }
manual-reminder-change = Change the amount, pause or stop your monthly gift
manual-reminder-change-text = To change the amount, pause or stop your monthly gift:

## A payment that did not go through, and the follow-ups.

payment-failed-subject = { $site }: your donation did not go through
payment-failed-intro = { $monthly ->
    [yes] Thank you for supporting { $site }. Your monthly donation of { $total } did not go through this time; no money was taken.
   *[other] Thank you for supporting { $site }. Your donation of { $total } did not go through this time; no money was taken.
}
payment-failed-happens = This happens: a card expires, a bank is cautious.
payment-failed-card = You can update your card in one step
payment-failed-card-text = You can update your card in one step here:
payment-failed-or-change = To change or stop the monthly gift instead:
payment-failed-retry = If you would like to try again, or to update a monthly gift, you can do so here
payment-failed-end = If you meant to stop, there is nothing to do. Either way, thank you.
followup-subject = { $site }: your monthly donation still did not go through
followup-intro = Your monthly donation of { $total } to { $site } still did not go through; no money was taken.
followup-card = If your card expired or changed, you can update it in one step
followup-change = To change the amount or stop the monthly gift:
followup-end = If you meant to stop, there is nothing to do. Thank you for your support.

## The donor's self-service link.

manage-subject = { $site }: your donations
manage-intro = Someone (we hope you) asked for a link to see the donations given with this address.
manage-what = There you can see your gifts, cancel a monthly gift and download a yearly statement.
manage-valid = The link works for { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}. If you did not ask for it, ignore this email.

## The yearly statement.

statement-subject = { $site }: your donations in { $year }
statement-intro = Thank you for supporting { $site } in { $year }. These are your donations of that year:
statement-line = { $date }  receipt { $receipt }  { $amount }
statement-refunded = (refunded { $amount })
statement-total = Total: { $totals }
statement-tax-id = tax id { $tax_id }
statement-no-goods = No goods or services were provided in exchange for these contributions.

# The site's legal wording under receipts and statements (empty unless
# `[site.wording.<lang>] receipt-legal = "…"` sets it).
receipt-legal = { "" }

## Job applications.

application-subject = { $site }: we received your application for { $title }
application-thanks = Thank you for applying for the { $title } position at { $site }. We have received your application and your CV.
application-next = We read every application and will get back to you. There is nothing else you need to do for now.
application-keep-on-file = You agreed that we may keep your application on file for future openings. Reply to this email at any time to withdraw that agreement.
application-position = The position:
rejection-subject = Your application for { $title }
rejection-text = Thank you for your interest in the { $title } position and for the time you gave your application. After careful consideration, we have decided not to take your application further.
rejection-wish = We wish you every success.

## A staff reply to a comment.

comment-reply-subject = Re: We received your comment ({ $reference })
comment-reply-reference = Reference of your comment: { $reference }.

## A person's data: export and erasure.

people-hours = { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
}
people-export-subject = { $site }: your data, as you asked
people-export-intro = Someone, probably you, asked { $site } for a copy of everything we hold about this address: newsletter subscription, donations, comments, feedback and job applications.
people-export-download = Download my data
people-export-download-text = Download it (one JSON file) from this link:
people-export-valid = The link works for { $hours }. Keep it to yourself: whoever opens it gets the file. If you did not ask for this, ignore this email.
people-erase-subject = { $site }: confirm that we should delete your data
people-erase-intro = Someone, probably you, asked { $site } to delete everything we hold about this address: newsletter subscription, donations, comments, feedback and job applications.
people-erase-review = Review and confirm
people-erase-open = To confirm, open this link and press the button on the page:
people-erase-valid = Nothing is deleted until you press the button on that page. The link works for { $hours } and only once. If you did not ask for this, ignore this email: nothing will change.
people-erase-kept = We keep the amounts and dates of donations, without your name or address, because accounting law requires it.

## Newsletter issue chrome.

newsletter-unsubscribe = Unsubscribe or change your lists
# Under every issue: `newsletter.footer` from the configuration, unless
# `[site.wording.<lang>] newsletter-footer = "…"` gives this language its own words.
newsletter-footer = { $footer }
