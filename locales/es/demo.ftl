# El marco del artículo de demostración (templates/pages/demo/article.html): lo que dice la
# página del medio alrededor de la nota. La nota es la edición en inglés del medio.

demo-title-suffix = (demostración de Frontdesk)
demo-banner = Artículo de demostración servido por Frontdesk. Los widgets para lectores de esta página funcionan de verdad: lo que envíe aquí se guarda y se envía por correo como cualquier mensaje de un lector.
demo-nav-label = Secciones
demo-nav-investigations = Investigaciones
demo-nav-news = Noticias
demo-nav-dynamics = Dinámicas criminales
demo-nav-about = Quiénes somos
demo-breadcrumb = Ruta de navegación
demo-home = Inicio
demo-brief = Breve
demo-edition = Inglés
demo-share = Compartir:
demo-share-email = Correo
demo-share-print = Imprimir
demo-share-copy = Copiar enlace
demo-appeal-title = Donar
demo-appeal = Queremos sostener la mayor base de datos sobre crimen organizado de América Latina, pero para lograrlo necesitamos recursos.
demo-comments-label = Sus comentarios
demo-license = Invitamos a los lectores a copiar y distribuir nuestro trabajo con fines no comerciales, citando a InSight Crime en la firma y enlazando al original al principio y al final del artículo. Consulte el sitio de Creative Commons para saber más sobre cómo compartir nuestro trabajo, y escríbanos si usa un artículo.
demo-tags = Etiquetas:
demo-related = Contenido relacionado
demo-more-from = Más de InSight Crime
demo-about = Sobre InSight Crime
demo-footer = InSight Crime · Contenido de demostración tomado del artículo semilla del medio, servido por el Frontdesk de { $site }.
