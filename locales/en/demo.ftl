# The demo article's chrome (templates/pages/demo/article.html): what the newsroom's page
# around the story says. The story itself is the newsroom's English edition.

demo-title-suffix = (Frontdesk demo)
demo-banner = Demo article served by Frontdesk. The reader widgets on this page are live: what you send here is stored and emailed like anything a reader sends.
demo-nav-label = Sections
demo-nav-investigations = Investigations
demo-nav-news = News
demo-nav-dynamics = Criminal Dynamics
demo-nav-about = About Us
demo-breadcrumb = Breadcrumb
demo-home = Home
demo-brief = Brief
demo-edition = English
demo-share = Share:
demo-share-email = Email
demo-share-print = Print
demo-share-copy = Copy link
demo-appeal-title = Donate
demo-appeal = We want to sustain Latin America’s largest organized crime database, but in order to do so, we need resources.
demo-comments-label = Your comments
demo-license = We encourage readers to copy and distribute our work for non-commercial purposes, with attribution to InSight Crime in the byline and links to the original at both the top and bottom of the article. Check the Creative Commons website for more details of how to share our work, and please send us an email if you use an article.
demo-tags = Tags:
demo-related = Related Content
demo-more-from = More from InSight Crime
demo-about = About InSight Crime
demo-footer = InSight Crime · Demo content from the newsroom's seed article, served by { $site }'s Frontdesk.
