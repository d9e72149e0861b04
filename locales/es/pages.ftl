## Páginas para lectores (templates/pages/): textos comunes, boletín, donantes, privacidad
## y la referencia de la API.

page-back-to = Volver a { $site }
page-link-not-valid-title = Enlace no válido
page-link-not-valid-heading = Este enlace no es válido
page-your-data = Tus datos
page-download-my-data = Descargar mis datos
page-download-my-data-hint = Enviamos a { $email } un enlace con todo lo que guardamos sobre esa dirección, en un solo archivo JSON.
page-delete-my-data = Eliminar mis datos
page-language-heading = Idioma
page-language-label = Páginas y correos en
page-language-save = Guardar idioma
page-language-hint = Los correos que te enviemos seguirán esta elección.
page-language-saved = Guardamos tu idioma.

## Confirmación y preferencias del boletín

nl-confirm-heading = Confirma tu suscripción
nl-confirm-already = Esta dirección ya está confirmada. ¡Gracias!
nl-confirm-intro = Presiona el botón para recibir el boletín de { $site } en
nl-confirm-button = Confirmar mi suscripción
nl-confirm-hint = Puedes darte de baja en cualquier momento con el enlace al final de cada boletín.
nl-confirmed-heading = Ya estás suscrito
nl-confirmed-text = ¡Gracias! { $email } recibirá el boletín de { $site }.
nl-confirmed-hint = Cada boletín trae un enlace para cambiar tus listas o darte de baja.
nl-not-found-text = El enlace no existe o ya venció. Los enlaces de confirmación funcionan durante { $days ->
    [one] { $days } día
   *[other] { $days } días
}; suscríbete de nuevo para recibir otro.
nl-prefs-heading = Tu suscripción al boletín
nl-prefs-for = Preferencias de
nl-prefs-unsubscribed = Te diste de baja y no recibes ningún boletín nuestro.
nl-prefs-unsubscribe = Darme de baja
nl-prefs-unsubscribe-hint = Da de baja esta dirección de todas las listas.
nl-prefs-lists-heading = O elige tus listas
nl-prefs-save-lists = Guardar mis listas
nl-prefs-lists-hint = Si dejas todas las casillas vacías, te das de baja de todo.
nl-delete-my-data-hint = Te enviamos un enlace para confirmar; no eliminamos nada antes de que lo abras.
nl-unsubscribed-heading = Te diste de baja
nl-unsubscribed-text = { $email } no recibirá más boletines de { $site }.
nl-lists-saved-title = Listas guardadas
nl-lists-saved-heading = Guardamos tus listas
nl-lists-saved-text = { $email } recibe: { $lists }.
nl-change-lists = Cambiar tus listas

## Páginas del donante

donor-link-expired-title = Enlace vencido
donor-link-expired-heading = Este enlace venció
donor-link-expired-text = Los enlaces a tus donaciones funcionan por un tiempo limitado. Pide uno nuevo donde hiciste tu aporte y te lo enviaremos por correo.
donor-manage-title = Tus donaciones
donor-manage-given-with = Hechas con { $email }.
donor-manage-cancelled = Cancelamos tu aporte mensual. No se harán más cobros después del período en curso.
donor-manage-paused = Tu aporte mensual está en pausa. No se cobrará nada hasta que se reanude.
donor-manage-resumed = Tu aporte mensual se reanudó.
donor-manage-changed = Tu monto mensual cambia a partir del próximo pago.
donor-col-date = Fecha
donor-col-amount = Monto
donor-col-frequency = Frecuencia
donor-col-status = Estado
donor-col-receipt = Recibo
donor-monthly = Mensual
donor-one-time = Única
donor-monthly-cancelled = (cancelado)
donor-monthly-paused = (en pausa)
donor-monthly-paused-until = (en pausa hasta el { $date })
donor-update-card = Actualizar tarjeta
donor-new-amount = Nuevo monto mensual ({ $currency })
donor-change-amount = Cambiar monto
donor-pause-for = Pausar por
donor-months = { $count ->
    [one] { $count } mes
   *[other] { $count } meses
}
donor-pause = Pausar
donor-resume = Reanudar ahora
donor-cancel-monthly = Cancelar aporte mensual
donor-no-donations = No hay donaciones con esta dirección.
donor-statements-heading = Constancias anuales
donor-statement-printable = página para imprimir
donor-statement-csv = CSV
donor-delete-my-data-hint = Te enviamos un enlace para confirmar; no eliminamos nada antes de que lo abras. Los montos y fechas de los aportes se conservan, sin tu nombre ni tu dirección, por razones contables.
donor-statement-title = Constancia de donaciones { $year }
donor-statement-tax-id = Identificación fiscal { $id }
donor-statement-intro = Aportes recibidos de { $email } entre el { $from } y el { $to }.
donor-statement-refunded = ({ $amount } reembolsado)
donor-statement-total = Total recibido:
donor-statement-none = No se recibieron aportes en este período.
donor-statement-no-goods = No se entregaron bienes ni servicios a cambio de estos aportes.
donor-thanks-title = Gracias
donor-thanks-cancelled-heading = Tu donación no se completó
donor-thanks-cancelled-text = No se hizo ningún cobro. Puedes volver e intentarlo de nuevo cuando quieras.
donor-thanks-one-time = Tu donación de { $amount } apoya el periodismo independiente. Tu recibo va en camino por correo.
donor-thanks-monthly = Tu donación mensual de { $amount } apoya el periodismo independiente. Tu recibo va en camino por correo.
donor-thanks-generic = Tu apoyo hace posible nuestro periodismo.

## «Descargar mis datos» y «Eliminar mis datos»

privacy-check-inbox = Revisa tu correo
privacy-delete-heading = Eliminar tus datos
privacy-delete-what = Se eliminará todo lo que { $site } guarda sobre { $email }: tu suscripción al boletín, tus comentarios y cualquier opinión que te nombre, tus postulaciones a empleos con sus CV, y los correos que te enviamos.
privacy-delete-kept = Conservamos los montos y fechas de tus donaciones, sin tu nombre ni tu dirección, porque la ley contable lo exige. Cualquier aporte mensual se detiene. La dirección queda bloqueada en nuestro boletín, para que nadie pueda suscribirla de nuevo.
privacy-delete-final = Esto no se puede deshacer.
privacy-delete-requested = Enviamos un enlace a { $email }. Ábrelo y presiona el botón de esa página para eliminar tus datos.
privacy-delete-requested-hint = No se elimina nada antes de eso. El enlace funciona durante { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
} y una sola vez. Si lo pides varias veces en pocos minutos, enviamos un solo correo.
privacy-export-requested = Enviamos un enlace a { $email }. Descarga todo lo que guardamos sobre ti, en un solo archivo JSON.
privacy-export-requested-hint = El enlace funciona durante { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
}. Si lo pides varias veces en pocos minutos, enviamos un solo correo.
privacy-deleted-heading = Tus datos fueron eliminados
privacy-deleted-text = Eliminamos todo lo que guardábamos sobre tu dirección, salvo los montos y fechas anónimos de las donaciones que la ley contable nos obliga a conservar.
privacy-deleted-hint = No volveremos a escribirte.
privacy-link-expired-text = El enlace no existe, ya se usó o venció. Vuelve a abrir la página de donde vienes (desde un boletín, o un nuevo enlace a tus donaciones) y pídelo otra vez.

## La referencia de la API (/api)

api-title = Referencia de la API
api-intro-document = Esta página se genera a partir del documento OpenAPI 3.1 legible por máquinas, que es el que deben leer los clientes generados:
api-intro-token = Las operaciones del equipo requieren un token personal de API:
api-intro-problems = Cada error es un documento de problema:
api-contents = Contenido
api-schemas = Esquemas
api-operation-id = Id. de operación
api-needs-token = requiere un token de API del equipo
api-required = (obligatorio)
api-body = Cuerpo:
api-col-parameter = parámetro
api-col-in = en
api-col-schema = esquema
api-col-meaning = significado
api-col-status = estado
api-col-body = cuerpo
api-col-field = campo
