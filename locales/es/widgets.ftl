# Los widgets para incrustar (assets/embed/frontdesk.js). El script los recibe en JSON de
# GET /embed/i18n/{lang}.json: solo texto, argumentos { $nombre } y una selección de plural
# sobre un número ([one] … *[other] …); véase docs/translating.md, "Widgets".

## Comunes
widget-error-network = No pudimos comunicarnos con el servidor. Revise su conexión e inténtelo de nuevo.
widget-error-generic = Algo salió mal; inténtelo de nuevo.
widget-error-fix-fields = Corrija los campos marcados.
widget-error-load = No se pudo cargar esta parte de la página. Inténtelo más tarde.
widget-optional = (opcional)
widget-email = Correo electrónico
widget-name = Nombre

## Donar
widget-donate-heading = Apoye nuestro periodismo
widget-donate-intro = Su aporte mantiene nuestra investigación independiente y gratuita para todos.
widget-donate-unavailable = En este momento no podemos recibir donaciones. Inténtelo más tarde.
widget-donate-button = Donar
widget-donate-button-amount = Donar { $amount }
widget-donate-button-monthly = Donar { $amount } al mes
widget-donate-frequency = Frecuencia
widget-donate-one-time = Una vez
widget-donate-monthly = Mensual
widget-donate-per-month = { $amount }/mes
widget-donate-amount = Monto
widget-donate-other-amount = Otro monto
widget-donate-currency = Moneda
widget-donate-cover-fees = Cubrir la comisión de procesamiento
widget-donate-cover-fees-amount = Agregar { $fee } para cubrir la comisión de procesamiento
widget-donate-dedicate = Dedicar esta donación a alguien
widget-donate-dedication = Dedicatoria
widget-donate-honor = En honor a
widget-donate-memory = En memoria de
widget-donate-honoree = Su nombre
widget-donate-email-hint = Para enviarle su recibo.
widget-donate-newsletter = Envíenme también el boletín
widget-donate-checkout-hint = Pagará en la página segura de nuestro proveedor de pagos.
widget-donate-pledge-hint = Le enviaremos por correo cómo pagar.
widget-donate-amount-missing = Elija o escriba un monto.
widget-donate-amount-invalid = Escriba un monto como { $whole } o { $decimal }.
widget-donate-redirecting = Lo llevamos a la página de pago segura…
widget-donate-thanks = ¡Gracias por su promesa de donación!
widget-donate-recorded = Registramos su donación de { $amount }. Le enviamos por correo cómo pagar.
widget-donate-recorded-monthly = Registramos su donación mensual de { $amount }. Le enviamos por correo cómo pagar.
widget-donate-status = ¡Gracias! Registramos su promesa de { $amount }; revise su correo para saber cómo pagar.

## Útil
widget-helpful-question = ¿Le resultó útil este contenido?
widget-helpful-yes = Sí
widget-helpful-no = No
widget-helpful-send = Enviar
widget-helpful-sent = Gracias, enviamos su respuesta.
widget-helpful-choose-reason = Elija un motivo
widget-helpful-reason = ¿Qué podríamos mejorar?
widget-helpful-comment = Su comentario
widget-helpful-more = Cuéntenos más
widget-helpful-thanks = Gracias por su opinión.
widget-helpful-summary = { $total ->
    [one] A { $helpful } de { $total } lector le resultó útil.
   *[other] A { $helpful } de { $total } lectores les resultó útil.
}
widget-helpful-failed = No se pudo enviar su respuesta.
widget-reason-factual_error = Tiene un error en los hechos
widget-reason-unclear = No fue claro
widget-reason-missing_context = Le falta contexto
widget-reason-too_long = Fue demasiado largo
widget-reason-outdated = Está desactualizado
widget-reason-other = Otra cosa

## Comentarios
widget-comment-heading = ¿Qué opina?
widget-comment-open = Envíenos sus comentarios
widget-comment-send = Enviar comentario
widget-comment-subject = Asunto
widget-comment-message = Su comentario
widget-comment-email-hint = Le responderemos a esta dirección; nunca se publica.
widget-comment-confidential = Enviar como dato confidencial
widget-comment-confidential-hint = Se guarda cifrado, solo lo leen editores designados y nunca se envía por correo. No podemos proteger su propio dispositivo o red, ni ocultar que nos escribió ni cuándo.
widget-comment-trap = Deje este campo vacío
widget-comment-tip-received = Recibimos su dato confidencial.
widget-comment-thanks = Gracias por su comentario.
widget-comment-reference-reply = Su número de referencia es { $reference }. Leemos todos los mensajes y respondemos cuando podemos.
widget-comment-reference-tip = Su número de referencia es { $reference }. Anótelo: no enviamos correos sobre los datos confidenciales.
widget-comment-status = Comentario enviado. Su número de referencia es { $reference }.

## Boletín
widget-newsletter-heading = Reciba nuestro boletín
widget-newsletter-intro = Lo mejor de nuestro periodismo en su correo. Puede darse de baja cuando quiera.
widget-newsletter-subscribe = Suscribirme
widget-newsletter-lists = Boletines
widget-newsletter-choose-one = Elija al menos un boletín.
widget-newsletter-check-inbox = Revise su correo
widget-newsletter-sent = Enviamos un enlace de confirmación a { $email }. Su suscripción comienza cuando lo abra.
widget-newsletter-status = Casi listo: revise su correo para confirmar su suscripción.

## Empleos
widget-jobs-heading = Trabaje con nosotros
widget-jobs-unavailable = En este momento no podemos mostrar las vacantes.
widget-jobs-none = En este momento no hay vacantes abiertas.
widget-jobs-apply-by = Postúlese hasta el { $date }
widget-employment-full_time = Tiempo completo
widget-employment-part_time = Medio tiempo
widget-employment-contractor = Por contrato
widget-employment-temporary = Temporal
widget-employment-intern = Pasantía
widget-employment-volunteer = Voluntariado
widget-employment-per_diem = Por jornada
widget-employment-other = Otro
widget-workplace-remote = Remoto
widget-workplace-hybrid = Híbrido
widget-workplace-on_site = Presencial
