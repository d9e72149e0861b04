## The donation receipt.

receipt-subject = { $site }: receipt { $number } for your donation of { $amount }
receipt-thanks = { $monthly ->
    [yes] Thank you for your monthly donation. This is your receipt.
   *[other] Thank you for your donation. This is your receipt.
}
receipt-number = Receipt number
receipt-date = Date
receipt-amount = Amount
receipt-received-by = Received by
receipt-tax-id = Tax id
receipt-given = Given
receipt-in-memory = in memory of the person you named
receipt-in-honour = in honour of the person you named
receipt-no-goods = No goods or services were provided in exchange for this contribution.
receipt-keep = Keep this email for your records.
receipt-manage-link = See your donations, download a yearly statement or change a monthly gift
receipt-manage-text = To see your donations, download a yearly statement or change a monthly gift:
