// Passkeys in the staff area: registering one, proving one again, and signing in with one.
// Served by the service itself (the CSP allows scripts from its own origin only, none inline).
//
// Each `<form data-passkey="…" data-start="…" data-finish="…" data-done="…">` is hidden until
// this script finds WebAuthn in the browser. On submit it asks the server to start a ceremony
// (JSON, with the form's CSRF token in X-CSRF-Token), hands the options to
// navigator.credentials.create() or .get(), and sends the authenticator's answer back; then it
// goes to the `next` the server names, or to `data-done`.
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeIds(list) {
    (list || []).forEach(function (c) {
      c.id = fromB64url(c.id);
    });
  }

  function creationOptions(options) {
    var pk = options.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    pk.user.id = fromB64url(pk.user.id);
    decodeIds(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = options.publicKey;
    pk.challenge = fromB64url(pk.challenge);
    decodeIds(pk.allowCredentials);
    return { publicKey: pk };
  }

  function registration(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(r.attestationObject),
        clientDataJSON: toB64url(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function assertion(cred) {
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      },
      extensions: cred.getClientExtensionResults()
    };
  }

  function problem(data, fallback) {
    if (data && data.errors && data.errors.length) {
      return data.errors.map(function (e) { return e.message; }).join(" ");
    }
    if (data && data.detail) {
      return data.detail;
    }
    return fallback;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok) {
          throw new Error(problem(data, "The request was refused (" + res.status + ")."));
        }
        return data;
      });
    });
  }

  function say(form, text) {
    var out = form.querySelector("[data-passkey-message]");
    if (out) {
      out.textContent = text;
      out.hidden = !text;
    }
  }

  function value(form, name) {
    var field = form.querySelector("[name='" + name + "']");
    return field ? field.value : "";
  }

  function run(form) {
    var kind = form.getAttribute("data-passkey");
    var csrf = value(form, "csrf_token");
    var body = {};
    if (kind === "register") {
      body = { name: value(form, "name"), code: value(form, "code") };
    }
    say(form, "");
    var button = form.querySelector("button");
    if (button) {
      button.disabled = true;
    }
    return post(form.getAttribute("data-start"), csrf, body)
      .then(function (started) {
        var ask = kind === "register"
          ? navigator.credentials.create(creationOptions(started.options)).then(registration)
          : navigator.credentials.get(requestOptions(started.options)).then(assertion);
        return ask.then(function (credential) {
          return post(form.getAttribute("data-finish"), csrf, {
            ceremony: started.ceremony,
            credential: credential
          });
        });
      })
      .then(function (done) {
        window.location.assign((done && done.next) || form.getAttribute("data-done"));
      })
      .catch(function (error) {
        var text = error && error.name === "NotAllowedError"
          ? "The passkey request was cancelled or timed out."
          : (error && error.message) || "The passkey could not be used.";
        say(form, text);
      })
      .then(function () {
        if (button) {
          button.disabled = false;
        }
      });
  }

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(form);
    });
  });
})();
