## Correos a lectores, donantes y postulantes (los del equipo siguen en inglés).

email-your-reference = Su referencia: { $reference }
email-donation-reference = Referencia de su donación: { $reference }
email-see-donations = Vea sus donaciones
email-receipt-on-arrival = Cuando recibamos el dinero le enviaremos un recibo.
email-how-to-pay = Cómo pagar
email-given-memory = en memoria de la persona que nombró
email-given-honour = en honor de la persona que nombró

## La promesa de donación (pago manual).

pledge-subject = { $site }: cómo completar su { $monthly ->
    [yes] donación mensual
   *[other] donación
} de { $total }
pledge-thanks = { $monthly ->
    [yes] Gracias por comprometer una donación mensual de { $total } a { $site }
   *[other] Gracias por comprometer { $total } a { $site }
}
pledge-given = , donada { $given }
pledge-fee = Son { $amount } para nuestro periodismo más { $fee } para cubrir las comisiones.

## El recordatorio mensual de una donación comprometida.

manual-reminder-subject = { $site }: su donación mensual de { $total } de { $month }
manual-reminder-intro = Este es el recordatorio mensual de la donación de { $total } que comprometió con { $site }: gracias por apoyar nuestro periodismo.
manual-reminder-how-to-pay = Cómo pagar { $month }
manual-reminder-change = Cambie el importe, pause o detenga su donación mensual
manual-reminder-change-text = Para cambiar el importe, pausar o detener su donación mensual:

## Un pago que no se completó, y los recordatorios.

payment-failed-subject = { $site }: su donación no se completó
payment-failed-intro = { $monthly ->
    [yes] Gracias por apoyar a { $site }. Su donación mensual de { $total } no se completó esta vez; no se cobró nada.
   *[other] Gracias por apoyar a { $site }. Su donación de { $total } no se completó esta vez; no se cobró nada.
}
payment-failed-happens = Sucede: una tarjeta vence, un banco es prudente.
payment-failed-card = Puede actualizar su tarjeta en un solo paso
payment-failed-card-text = Puede actualizar su tarjeta en un solo paso aquí:
payment-failed-or-change = Para cambiar o detener la donación mensual:
payment-failed-retry = Si quiere intentarlo de nuevo, o actualizar una donación mensual, puede hacerlo aquí
payment-failed-end = Si quería detenerla, no tiene que hacer nada. En cualquier caso, gracias.
followup-subject = { $site }: su donación mensual sigue sin completarse
followup-intro = Su donación mensual de { $total } a { $site } sigue sin completarse; no se cobró nada.
followup-card = Si su tarjeta venció o cambió, puede actualizarla en un solo paso
followup-change = Para cambiar el importe o detener la donación mensual:
followup-end = Si quería detenerla, no tiene que hacer nada. Gracias por su apoyo.

## El enlace de autoservicio del donante.

manage-subject = { $site }: sus donaciones
manage-intro = Alguien (esperamos que usted) pidió un enlace para ver las donaciones hechas con esta dirección.
manage-what = Allí puede ver sus donaciones, cancelar una donación mensual y descargar un certificado anual.
manage-valid = El enlace funciona durante { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
}. Si no lo pidió, ignore este correo.

## El certificado anual.

statement-subject = { $site }: sus donaciones en { $year }
statement-intro = Gracias por apoyar a { $site } en { $year }. Estas son sus donaciones de ese año:
statement-line = { $date }  recibo { $receipt }  { $amount }
statement-refunded = (reembolsado { $amount })
statement-total = Total: { $totals }
statement-tax-id = identificación fiscal { $tax_id }
statement-no-goods = No se entregaron bienes ni servicios a cambio de estas contribuciones.

# El texto legal del sitio bajo recibos y certificados (vacío salvo que
# `[site.wording.<lang>] receipt-legal = "…"` lo fije).
receipt-legal = { "" }

## Postulaciones a empleos.

application-subject = { $site }: recibimos su postulación para { $title }
application-thanks = Gracias por postularse al puesto de { $title } en { $site }. Recibimos su postulación y su currículum.
application-next = Leemos todas las postulaciones y le responderemos. Por ahora no necesita hacer nada más.
application-keep-on-file = Aceptó que conservemos su postulación para futuras vacantes. Responda a este correo en cualquier momento para retirar ese consentimiento.
application-position = El puesto:
rejection-subject = Su postulación para { $title }
rejection-text = Gracias por su interés en el puesto de { $title } y por el tiempo que dedicó a su postulación. Tras considerarla con atención, hemos decidido no continuar con ella.
rejection-wish = Le deseamos mucho éxito.

## Una respuesta del equipo a un comentario.

comment-reply-subject = Re: Recibimos su comentario ({ $reference })
comment-reply-reference = Referencia de su comentario: { $reference }.

## Los datos de una persona: exportación y borrado.

people-hours = { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
}
people-export-subject = { $site }: sus datos, como los pidió
people-export-intro = Alguien, probablemente usted, pidió a { $site } una copia de todo lo que guardamos sobre esta dirección: suscripción al boletín, donaciones, comentarios, opiniones y postulaciones.
people-export-download = Descargar mis datos
people-export-download-text = Descárguelos (un archivo JSON) desde este enlace:
people-export-valid = El enlace funciona durante { $hours }. No lo comparta: quien lo abra obtiene el archivo. Si no lo pidió, ignore este correo.
people-erase-subject = { $site }: confirme que debemos borrar sus datos
people-erase-intro = Alguien, probablemente usted, pidió a { $site } borrar todo lo que guardamos sobre esta dirección: suscripción al boletín, donaciones, comentarios, opiniones y postulaciones.
people-erase-review = Revisar y confirmar
people-erase-open = Para confirmar, abra este enlace y pulse el botón de la página:
people-erase-valid = No se borra nada hasta que pulse el botón de esa página. El enlace funciona durante { $hours } y una sola vez. Si no lo pidió, ignore este correo: nada cambiará.
people-erase-kept = Conservamos los importes y las fechas de las donaciones, sin su nombre ni su dirección, porque la ley contable lo exige.

## El marco de cada edición del boletín.

newsletter-unsubscribe = Darse de baja o cambiar sus listas
# Bajo cada edición: `newsletter.footer` de la configuración, salvo que
# `[site.wording.<lang>] newsletter-footer = "…"` dé a este idioma sus propias palabras.
newsletter-footer = { $footer }
