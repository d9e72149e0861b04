# Compartidos por todas las páginas y correos para lectores.

site-language-name = Español
hello = Hola:
valid-days = { $count ->
    [one] { $count } día
   *[other] { $count } días
}
paste-link = O pegue este enlace en su navegador:
