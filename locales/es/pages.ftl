## Páginas para lectores (templates/pages/): textos comunes, boletín, donantes, privacidad
## y la referencia de la API.

page-back-to = Volver a { $site }
page-link-not-valid-title = Enlace no válido
page-link-not-valid-heading = Este enlace no es válido
page-your-data = Sus datos
page-download-my-data = Descargar mis datos
page-download-my-data-hint = Enviamos a { $email } un enlace con todo lo que guardamos sobre esa dirección, en un solo archivo JSON.
page-delete-my-data = Eliminar mis datos
page-language-heading = Idioma
page-language-label = Páginas y correos en
page-language-save = Guardar idioma
page-language-hint = Los correos que le enviemos seguirán esta elección.
page-language-saved = Guardamos su idioma.

## Confirmación y preferencias del boletín

nl-confirm-heading = Confirme su suscripción
nl-confirm-already = Esta dirección ya está confirmada. ¡Gracias!
nl-confirm-intro = Pulse el botón para recibir el boletín de { $site } en
nl-confirm-button = Confirmar mi suscripción
nl-confirm-hint = Puede darse de baja en cualquier momento con el enlace al final de cada boletín.
nl-confirmed-heading = Ya está suscrito
nl-confirmed-text = ¡Gracias! { $email } recibirá el boletín de { $site }.
nl-confirmed-hint = Cada boletín trae un enlace para cambiar sus listas o darse de baja.
nl-not-found-text = El enlace no existe o ya venció. Los enlaces de confirmación funcionan durante { $days ->
    [one] { $days } día
   *[other] { $days } días
}; suscríbase de nuevo para recibir otro.
nl-prefs-heading = Su suscripción al boletín
nl-prefs-for = Preferencias de
nl-prefs-unsubscribed = Se dio de baja y no recibe ningún boletín nuestro.
nl-prefs-unsubscribe = Darme de baja
nl-prefs-unsubscribe-hint = Da de baja esta dirección de todas las listas.
nl-prefs-lists-heading = O elija sus listas
nl-prefs-save-lists = Guardar mis listas
nl-prefs-lists-hint = Si deja todas las casillas vacías, se da de baja de todo.
nl-delete-my-data-hint = Le enviamos un enlace para confirmar; no eliminamos nada antes de que lo abra.
nl-unsubscribed-heading = Se dio de baja
nl-unsubscribed-text = { $email } no recibirá más boletines de { $site }.
nl-lists-saved-title = Listas guardadas
nl-lists-saved-heading = Guardamos sus listas
nl-lists-saved-text = { $email } recibe: { $lists }.
nl-change-lists = Cambiar sus listas

## Páginas del donante

donor-link-expired-title = Enlace vencido
donor-link-expired-heading = Este enlace venció
donor-link-expired-text = Los enlaces a sus donaciones funcionan por un tiempo limitado. Pida uno nuevo donde hizo su aporte y se lo enviaremos por correo.
donor-manage-title = Sus donaciones
donor-manage-given-with = Hechas con { $email }.
donor-manage-cancelled = Cancelamos su aporte mensual. No se harán más cobros después del período en curso.
donor-manage-paused = Su aporte mensual está en pausa. No se cobrará nada hasta que se reanude.
donor-manage-resumed = Su aporte mensual se reanudó.
donor-manage-changed = Su monto mensual cambia a partir del próximo pago.
donor-col-date = Fecha
donor-col-amount = Monto
donor-col-frequency = Frecuencia
donor-col-status = Estado
donor-col-receipt = Recibo
donor-monthly = Mensual
donor-one-time = Única
donor-status = { $status ->
    [pending] Pendiente
    [pledged] Prometida
    [paid] Pagada
    [failed] Fallida
    [refunded] Reembolsada
    [disputed] En disputa
   *[other] { $status }
}
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
donor-delete-my-data-hint = Le enviamos un enlace para confirmar; no eliminamos nada antes de que lo abra. Los montos y fechas de los aportes se conservan, sin su nombre ni su dirección, por razones contables.
donor-statement-title = Constancia de donaciones { $year }
donor-statement-tax-id = Identificación fiscal { $id }
donor-statement-intro = Aportes recibidos de { $email } entre el { $from } y el { $to }.
donor-statement-refunded = ({ $amount } reembolsado)
donor-statement-total = Total recibido:
donor-statement-none = No se recibieron aportes en este período.
donor-statement-no-goods = No se entregaron bienes ni servicios a cambio de estos aportes.
donor-thanks-title = Gracias
donor-thanks-cancelled-heading = Su donación no se completó
donor-thanks-cancelled-text = No se hizo ningún cobro. Puede volver e intentarlo de nuevo cuando quiera.
donor-thanks-one-time = Su donación de { $amount } apoya el periodismo independiente. Su recibo va en camino por correo.
donor-thanks-monthly = Su donación mensual de { $amount } apoya el periodismo independiente. Su recibo va en camino por correo.
donor-thanks-generic = Su apoyo hace posible nuestro periodismo.

## «Descargar mis datos» y «Eliminar mis datos»

privacy-check-inbox = Revise su correo
privacy-delete-heading = Eliminar sus datos
privacy-delete-what = Se eliminará todo lo que { $site } guarda sobre { $email }: su suscripción al boletín, sus comentarios y cualquier opinión en la que aparezca su nombre, sus postulaciones a empleos con los CV adjuntos, y los correos que le enviamos.
privacy-delete-kept = Conservamos los montos y fechas de sus donaciones, sin su nombre ni su dirección, porque la ley contable lo exige. Cualquier aporte mensual se detiene. La dirección queda bloqueada en nuestro boletín, para que nadie pueda suscribirla de nuevo.
privacy-delete-final = Esto no se puede deshacer.
privacy-delete-requested = Enviamos un enlace a { $email }. Ábralo y pulse el botón de esa página para eliminar sus datos.
privacy-delete-requested-hint = No se elimina nada antes de eso. El enlace funciona durante { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
} y una sola vez. Si lo pide varias veces en pocos minutos, enviamos un solo correo.
privacy-export-requested = Enviamos un enlace a { $email }. Con él se descarga todo lo que guardamos sobre usted, en un solo archivo JSON.
privacy-export-requested-hint = El enlace funciona durante { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
}. Si lo pide varias veces en pocos minutos, enviamos un solo correo.
privacy-deleted-heading = Sus datos fueron eliminados
privacy-deleted-text = Eliminamos todo lo que guardábamos sobre su dirección, salvo los montos y fechas anónimos de las donaciones que la ley contable nos obliga a conservar.
privacy-deleted-hint = No volveremos a escribirle.
privacy-link-expired-text = El enlace no existe, ya se usó o venció. Vuelva a abrir la página de donde viene (desde un boletín, o un nuevo enlace a sus donaciones) y pídalo otra vez.

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
