## The acknowledgement of a reader's comment.

comment-ack-subject = We received your comment ({ $reference })
comment-ack-thanks = Thank you for writing to { $site }. Your comment has reached our newsroom; an editor reads every message. If we answer, it will be in reply to this email.
comment-ack-reference = Your reference:
comment-ack-not-you = If you did not write to us, someone else typed this address into our comment form: you can ignore this email.
