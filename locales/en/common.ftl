# Shared by every reader-facing page and email.

# This language's own name, for language choosers.
site-language-name = English
hello = Hello,
# A number of days, e.g. how long a link works.
valid-days = { $count ->
    [one] { $count } day
   *[other] { $count } days
}
paste-link = Or paste this link into your browser:
