## El recibo de una donación.

receipt-subject = { $site }: recibo { $number } de su donación de { $amount }
receipt-thanks = { $monthly ->
    [yes] Gracias por su donación mensual. Este es su recibo.
   *[other] Gracias por su donación. Este es su recibo.
}
receipt-number = Número de recibo
receipt-date = Fecha
receipt-amount = Importe
receipt-received-by = Recibido por
receipt-tax-id = Identificación fiscal
receipt-given = Donado
receipt-in-memory = en memoria de la persona que nombró
receipt-in-honour = en honor de la persona que nombró
receipt-no-goods = No se entregaron bienes ni servicios a cambio de esta contribución.
receipt-keep = Conserve este correo para sus registros.
receipt-manage-link = Vea sus donaciones, descargue un certificado anual o cambie una donación mensual
receipt-manage-text = Para ver sus donaciones, descargar un certificado anual o cambiar una donación mensual:
