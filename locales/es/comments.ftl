## El acuse de recibo de un comentario.

comment-ack-subject = Recibimos su comentario ({ $reference })
comment-ack-thanks = Gracias por escribir a { $site }. Su comentario llegó a nuestra redacción; un editor lee cada mensaje. Si respondemos, será en respuesta a este correo.
comment-ack-reference = Su referencia:
comment-ack-not-you = Si no nos escribió, otra persona escribió esta dirección en nuestro formulario: puede ignorar este correo.
