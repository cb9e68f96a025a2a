-- xss.tac: a procedure whose request text is an attack on the page that
-- shows it: markup, a script, an event handler, a closing tag. The page
-- must show it as text, and nothing in it may run.
Procedure {
  input = {
    payload = field.string{default = "<img src=x onerror=\"document.body.dataset.pwned='img'\"><script>document.body.dataset.pwned='script'</script></pre></textarea>\"'><b>bold</b>"},
  },
  output = {approved = field.boolean{required = true}},
  function(input)
    local ok = Human.approve({message = "Deploy? " .. input.payload, timeout = 3600, default = false})
    return {approved = ok}
  end,
}
