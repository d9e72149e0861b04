## El correo de confirmación del boletín.

newsletter-confirm-subject = { $site }: confirme su suscripción
newsletter-confirm-asked = Alguien, probablemente usted, pidió recibir el boletín de { $site } en esta dirección.
newsletter-confirm-asked-lists = Alguien, probablemente usted, pidió recibir el boletín de { $site } ({ $lists }) en esta dirección.
newsletter-confirm-button = Confirmar mi suscripción
newsletter-confirm-open-link = Para confirmar, abra este enlace y pulse el botón de la página:
newsletter-confirm-expiry = El enlace funciona durante { $days ->
    [one] { $days } día
   *[other] { $days } días
}. Si no lo pidió, ignore este correo: no quedará suscrito y no volveremos a escribirle.
