## The newsletter's confirmation email.

newsletter-confirm-subject = { $site }: please confirm your subscription
newsletter-confirm-asked = Someone, probably you, asked to receive the { $site } newsletter at this address.
newsletter-confirm-asked-lists = Someone, probably you, asked to receive the { $site } newsletter ({ $lists }) at this address.
newsletter-confirm-button = Confirm my subscription
newsletter-confirm-open-link = To confirm, open this link and press the button on the page:
newsletter-confirm-expiry = The link works for { $days ->
    [one] { $days } day
   *[other] { $days } days
}. If you did not ask for this, ignore this email: you will not be subscribed and we will not write again.
