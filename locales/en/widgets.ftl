# The embed widgets (assets/embed/frontdesk.js). Served to the script as JSON by
# GET /embed/i18n/{lang}.json: keep to text, { $name } arguments and one plural selection
# on a number ([one] … *[other] …); see docs/translating.md, "Widgets".

## Shared
widget-error-network = We could not reach the server. Check your connection and try again.
widget-error-generic = Something went wrong; please try again.
widget-error-fix-fields = Please correct the marked fields.
widget-error-load = This part of the page could not be loaded. Please try again later.
widget-optional = (optional)
widget-email = Email
widget-name = Name

## Donate
widget-donate-heading = Support our journalism
widget-donate-intro = Your gift keeps our reporting independent and free for everyone.
widget-donate-unavailable = Donations cannot be taken right now. Please try again later.
widget-donate-button = Donate
widget-donate-button-amount = Donate { $amount }
widget-donate-button-monthly = Donate { $amount } monthly
widget-donate-frequency = How often
widget-donate-one-time = One time
widget-donate-monthly = Monthly
widget-donate-per-month = { $amount }/mo
widget-donate-amount = Amount
widget-donate-other-amount = Other amount
widget-donate-currency = Currency
widget-donate-cover-fees = Cover the processing fee
widget-donate-cover-fees-amount = Add { $fee } to cover the processing fee
widget-donate-dedicate = Dedicate this gift to someone
widget-donate-dedication = Dedication
widget-donate-honor = In honor of
widget-donate-memory = In memory of
widget-donate-honoree = Their name
widget-donate-email-hint = For your receipt.
widget-donate-newsletter = Also send me the newsletter
widget-donate-checkout-hint = You will pay on our payment provider’s secure page.
widget-donate-pledge-hint = We will email you how to pay.
widget-donate-amount-missing = Choose or enter an amount.
widget-donate-amount-invalid = Enter an amount like { $whole } or { $decimal }.
widget-donate-redirecting = Taking you to the secure payment page…
widget-donate-thanks = Thank you for your pledge!
widget-donate-recorded = Your gift of { $amount } is recorded. We have emailed you how to pay.
widget-donate-recorded-monthly = Your monthly gift of { $amount } is recorded. We have emailed you how to pay.
widget-donate-status = Thank you! Your pledge of { $amount } is recorded; check your email for how to pay.

## Helpful
widget-helpful-question = Was this content helpful?
widget-helpful-yes = Yes
widget-helpful-no = No
widget-helpful-send = Send
widget-helpful-sent = Thank you, your answer was sent.
widget-helpful-choose-reason = Choose a reason
widget-helpful-reason = What could be better?
widget-helpful-comment = Your comment
widget-helpful-more = Tell us more
widget-helpful-thanks = Thanks for your feedback.
widget-helpful-summary = { $total ->
    [one] { $helpful } of { $total } reader found this helpful.
   *[other] { $helpful } of { $total } readers found this helpful.
}
widget-helpful-failed = Your answer could not be sent.
widget-reason-factual_error = It has a factual error
widget-reason-unclear = It was unclear
widget-reason-missing_context = It is missing context
widget-reason-too_long = It was too long
widget-reason-outdated = It is out of date
widget-reason-other = Something else

## Comment
widget-comment-heading = What are your thoughts?
widget-comment-open = Send us your comments
widget-comment-send = Send comment
widget-comment-subject = Subject
widget-comment-message = Your comment
widget-comment-email-hint = We reply to this address; it is never published.
widget-comment-confidential = Send as a confidential tip
widget-comment-confidential-hint = Stored encrypted, read only by named editors, never sent by email. We cannot protect your own device or network, or hide that and when you wrote to us.
widget-comment-trap = Leave this field empty
widget-comment-tip-received = Your confidential tip is received.
widget-comment-thanks = Thank you for your comment.
widget-comment-reference-reply = Your reference is { $reference }. We read every message and reply when we can.
widget-comment-reference-tip = Your reference is { $reference }. Note it: we send no email about a tip.
widget-comment-status = Comment sent. Your reference is { $reference }.

## Newsletter
widget-newsletter-heading = Get our newsletter
widget-newsletter-intro = Our best reporting in your inbox. Unsubscribe at any time.
widget-newsletter-subscribe = Subscribe
widget-newsletter-lists = Newsletters
widget-newsletter-choose-one = Choose at least one newsletter.
widget-newsletter-check-inbox = Check your inbox
widget-newsletter-sent = We sent a confirmation link to { $email }. Your subscription starts when you open it.
widget-newsletter-status = Almost done: check your inbox to confirm your subscription.

## Jobs
widget-jobs-heading = Work with us
widget-jobs-unavailable = Open positions cannot be shown right now.
widget-jobs-none = There are no open positions right now.
widget-jobs-apply-by = Apply by { $date }
widget-employment-full_time = Full-time
widget-employment-part_time = Part-time
widget-employment-contractor = Contract
widget-employment-temporary = Temporary
widget-employment-intern = Internship
widget-employment-volunteer = Volunteer
widget-employment-per_diem = Per diem
widget-employment-other = Other
widget-workplace-remote = Remote
widget-workplace-hybrid = Hybrid
widget-workplace-on_site = On-site
