/*! Frontdesk reader widgets: donate, helpful, comment, newsletter, jobs.
 * One dependency-free script; no build step. Usage and options: docs/embedding.md.
 * Each <div data-frontdesk="KIND"> becomes a widget in its own shadow root, talking only
 * to the Frontdesk API (by default the origin this script was loaded from). Its words come
 * from /embed/i18n/LANG.json, the reader's language only (docs/translating.md). */
(() => {
  'use strict';
  const script = document.currentScript;
  const defaults = (script && script.dataset) || {};
  const scriptUrl = script && script.src ? new URL(script.src, location.href) : null;
  const cssHref = scriptUrl
    ? new URL(scriptUrl.pathname.replace(/\.js$/, '.css') + scriptUrl.search, scriptUrl).href
    : null;
  let uid = 0;

  // ---- small helpers ----

  /** Appends the children that are there (skips null and false). */
  function put(el, ...kids) {
    for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) el.append(kid);
    return el;
  }

  /** An element with attributes (`on…` are listeners, `text` is text) and children. */
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    return put(el, kids);
  }

  /** An option from the widget's element, else from the script tag, else `fallback`. */
  function option(host, name, fallback) {
    const v = host.dataset[name] ?? defaults[name];
    return v == null || v === '' ? fallback : v;
  }

  function articleUrl(host) {
    const canonical = document.querySelector('link[rel="canonical"]');
    return option(host, 'articleUrl', canonical ? canonical.href : location.href.split('#')[0]);
  }

  /** A text option in the widget's language (`data-heading-es`), else for every language
   * (`data-heading`), else the catalogue's message `key`. */
  function text(w, name, key) {
    return option(w.host, name + w.t.lang.replace(/^./, (c) => c.toUpperCase()), '') || option(w.host, name, '') || w.t(key);
  }

  function heading(w, key) {
    const level = Math.min(6, Math.max(2, parseInt(option(w.host, 'headingLevel', '2'), 10) || 2));
    return h('h' + level, { class: 'fd-title', text: text(w, 'heading', key) });
  }

  // ---- language ----

  const catalogues = {};

  /** The widget's `data-lang`, else the script tag's, else the page's, else the site's. */
  function langOf(host) {
    const page = (document.documentElement.lang || '').split('-')[0];
    return (host.dataset.lang || defaults.lang || page || 'default').toLowerCase();
  }

  /** The messages of `lang` (one request per language and page), else the site default's. */
  function catalogue(base, lang) {
    const get = (l) => fetch(scriptUrl ? new URL('i18n/' + l + '.json' + scriptUrl.search, scriptUrl).href : base + '/embed/i18n/' + l + '.json',
      { mode: 'cors', credentials: 'omit' }).then((r) => (r.ok ? r.json() : Promise.reject(r)));
    return catalogues[lang] || (catalogues[lang] = get(lang).catch((e) => (lang === 'default' ? Promise.reject(e) : catalogue(base, 'default'))));
  }

  /** `t(key, args)`: the message with `{name}` replaced (numbers formatted for the language);
   * a plural message is an object of variants, picked by `Intl.PluralRules`.
   * `t.parts(key, args)` keeps argument values that are elements as elements. */
  function translator({ lang, messages }) {
    const plural = new Intl.PluralRules(lang);
    const number = new Intl.NumberFormat(lang);
    const t = (key, args = {}) => {
      let m = messages[key];
      if (m && typeof m === 'object') {
        const n = args[m.$];
        m = m['=' + n] ?? m[plural.select(n)] ?? m['*'];
      }
      return m == null ? key : m.replace(/\{(\w+)\}/g, (_, k) => (typeof args[k] === 'number' ? number.format(args[k]) : args[k] ?? ''));
    };
    t.lang = lang;
    t.parts = (key, args) => t(key, Object.fromEntries(Object.keys(args).map((k) => [k, '\0' + k + '\0'])))
      .split('\0').map((s, i) => (i % 2 ? args[s] : s));
    return t;
  }

  /** A JSON API call. Rejects with `{status, problem}` (problem+json) or `{status: 0}`. */
  async function call(w, path, { method = 'GET', body, headers = {}, credentials = 'omit' } = {}) {
    let res;
    try {
      res = await fetch(w.base + path, {
        method,
        mode: 'cors',
        credentials,
        headers: Object.assign(
          { Accept: 'application/json' },
          body ? { 'Content-Type': 'application/json' } : {},
          headers
        ),
        body: body ? JSON.stringify(Object.assign({ lang: w.t.lang }, body)) : undefined,
      });
    } catch (e) {
      throw { status: 0, problem: { detail: w.t('widget-error-network') } };
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw { status: res.status, problem: data || { detail: w.t('widget-error-generic') } };
    return data;
  }

  function money(lang, minor, currency, decimals) {
    const unit = 10 ** decimals;
    const places = minor % unit ? decimals : 0;
    try {
      return new Intl.NumberFormat(lang, {
        style: 'currency',
        currency,
        minimumFractionDigits: places,
        maximumFractionDigits: places,
      }).format(minor / unit);
    } catch (e) {
      return (minor / unit).toFixed(places) + ' ' + currency;
    }
  }

  // ---- forms: labelled fields, errors from the problem document, busy state ----

  class Form {
    constructor(widget, submitLabel, onSubmit) {
      this.widget = widget;
      this.fields = {};
      this.button = h('button', { type: 'submit', class: 'fd-button', text: submitLabel });
      this.el = h('form', { class: 'fd-form', novalidate: true });
      this.el.addEventListener('submit', async (event) => {
        event.preventDefault();
        if (this.button.disabled) return;
        this.clear();
        this.busy(true);
        try {
          await onSubmit();
        } catch (e) {
          if (e && e.problem) this.problem(e.problem);
          else throw e;
        } finally {
          this.busy(false);
        }
      });
    }

    /** Adds a labelled control; `name` is the API field whose errors it shows. */
    field(name, label, control, { hint, optional, cls } = {}) {
      const id = control.id || (control.id = 'fd' + ++uid);
      if (!control.name) control.name = name;
      const error = h('p', { class: 'fd-error', id: id + '-error', hidden: true });
      const hintEl = hint ? h('p', { class: 'fd-hint', id: id + '-hint', text: hint }) : null;
      if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
      const isBox = control.type === 'checkbox';
      const labelEl = h('label', { for: id }, label, optional ? h('span', { class: 'fd-optional', text: ' ' + this.widget.t('widget-optional') }) : null);
      const wrap = h('div', { class: 'fd-field' + (isBox ? ' fd-check' : '') + (cls ? ' ' + cls : '') },
        isBox ? [control, labelEl] : [labelEl, control], hintEl, error);
      this.fields[name] = { control, error, hint: hintEl, wrap };
      return wrap;
    }

    /** Registers a group (fieldset) whose errors show under its legend. */
    group(name, fieldset, focusTarget) {
      const error = h('p', { class: 'fd-error', id: 'fd' + ++uid + '-error', hidden: true });
      fieldset.append(error);
      this.fields[name] = { control: focusTarget, error, group: fieldset };
      return fieldset;
    }

    setError(name, message) {
      const f = this.fields[name];
      if (!f) return false;
      f.error.textContent = f.error.hidden ? message : f.error.textContent + ' ' + message;
      f.error.hidden = false;
      const target = f.group || f.control;
      target.setAttribute('aria-invalid', 'true');
      const ids = [f.hint && f.hint.id, f.error.id].filter(Boolean).join(' ');
      if (f.control) f.control.setAttribute('aria-describedby', ids);
      if (f.group) f.group.setAttribute('aria-describedby', f.error.id);
      return true;
    }

    clear() {
      for (const f of Object.values(this.fields)) {
        f.error.hidden = true;
        f.error.textContent = '';
        (f.group || f.control).removeAttribute('aria-invalid');
        if (f.control) {
          if (f.hint) f.control.setAttribute('aria-describedby', f.hint.id);
          else f.control.removeAttribute('aria-describedby');
        }
      }
      this.widget.say('');
    }

    /** Shows a problem document: each named field's message beside it, the rest above. */
    problem(problem, aliases = {}) {
      const unplaced = [];
      let first = null;
      for (const e of problem.errors || []) {
        const name = aliases[e.field] || e.field.replace(/\[\d+\]$/, '');
        if (this.setError(name, e.message)) first = first || this.fields[name].control;
        else unplaced.push(e.message);
      }
      const summary = (problem.errors || []).length
        ? [this.widget.t('widget-error-fix-fields')].concat(unplaced).join(' ')
        : problem.detail || problem.title || this.widget.t('widget-error-generic');
      this.widget.say(summary, 'error');
      if (first) first.focus();
    }

    busy(on) {
      this.button.disabled = on;
      this.el.setAttribute('aria-busy', on ? 'true' : 'false');
    }
  }

  /** The widget's frame: shadow root, stylesheet, box, and one live region for results. */
  function frame(host, kind) {
    const root = host.attachShadow({ mode: 'open' });
    const box = h('div', { class: 'fd-widget fd-' + kind, part: 'widget' });
    if (cssHref) {
      box.hidden = true;
      const show = () => { box.hidden = false; };
      root.append(h('link', { rel: 'stylesheet', href: cssHref, onload: show, onerror: show }));
    }
    const status = h('p', { class: 'fd-status', role: 'status', 'aria-live': 'polite' });
    root.append(box);
    return {
      host,
      box,
      // Until the catalogue arrives; its only use is saying that it did not.
      t: translator({ lang: 'en', messages: { 'widget-error-load': 'This part of the page could not be loaded. Please try again later.' } }),
      status,
      base: option(host, 'api', scriptUrl ? scriptUrl.origin : location.origin).replace(/\/+$/, ''),
      say(text, tone) {
        status.textContent = text;
        status.className = 'fd-status' + (tone ? ' fd-' + tone : '');
      },
    };
  }

  // ---- donate ----

  const widgets = {};

  widgets.donate = async (w) => {
    const { host, t } = w;
    const fmt = (minor, code, decimals) => money(t.lang, minor, code, decimals);
    w.box.append(heading(w, 'widget-donate-heading'), h('p', { class: 'fd-lead', text: text(w, 'intro', 'widget-donate-intro') }));
    let options;
    try {
      options = await call(w, '/api/v1/donations/options');
    } catch (e) {
      w.box.append(w.status);
      w.say(t('widget-donate-unavailable'), 'error');
      return;
    }
    const wanted = (option(host, 'currency', '') || '').toUpperCase();
    let currency = options.currencies.find((c) => c.code === wanted) || options.currencies[0];
    let frequency = option(host, 'frequency', 'one_time') === 'monthly' ? 'monthly' : 'one_time';
    let preset = null;
    let pending = null; // {key, sent} of a request that never got an answer
    const decimalComma = new Intl.NumberFormat(t.lang).formatToParts(1.5).some((p) => p.type === 'decimal' && p.value === ',');
    const form = new Form(w, t('widget-donate-button'), submit);

    const freqBox = h('fieldset', { class: 'fd-segmented' }, h('legend', { text: t('widget-donate-frequency') }));
    for (const [value, label] of [['one_time', t('widget-donate-one-time')], ['monthly', t('widget-donate-monthly')]]) {
      const id = 'fd' + ++uid;
      freqBox.append(h('input', {
        type: 'radio', name: 'frequency', id, value, checked: value === frequency,
        onchange: () => { frequency = value; renderPresets(); update(); },
      }), h('label', { for: id, text: label }));
    }
    form.group('frequency', freqBox, freqBox.querySelector('input'));

    const currencySelect = h('select', { onchange: () => { currency = options.currencies.find((c) => c.code === currencySelect.value); renderPresets(); update(); } },
      options.currencies.map((c) => h('option', { value: c.code, selected: c === currency, text: c.code })));
    const presetBox = h('div', { class: 'fd-presets' });
    const custom = h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', oninput: () => { if (custom.value.trim()) { preset = null; syncPresets(); } update(); } });
    const amountBox = h('fieldset', { class: 'fd-amount' }, h('legend', { text: t('widget-donate-amount') }), presetBox,
      form.field('custom_amount', t('widget-donate-other-amount'), custom, { cls: 'fd-custom' }));
    form.group('amount_minor', amountBox, custom);

    const cover = h('input', { type: 'checkbox', onchange: () => update() });
    const coverField = form.field('cover_fees', t('widget-donate-cover-fees'), cover);
    const dedicate = h('input', { type: 'checkbox', onchange: () => { dedication.hidden = !dedicate.checked; } });
    const kind = h('select', {}, h('option', { value: 'honor', text: t('widget-donate-honor') }), h('option', { value: 'memory', text: t('widget-donate-memory') }));
    const honoree = h('input', { type: 'text', autocomplete: 'off' });
    const dedication = h('div', { class: 'fd-dedication', hidden: true },
      form.field('dedication.kind', t('widget-donate-dedication'), kind), form.field('dedication.name', t('widget-donate-honoree'), honoree));
    const email = h('input', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true' });
    const name = h('input', { type: 'text', autocomplete: 'name' });
    const optIn = h('input', { type: 'checkbox' });

    put(form.el,
      freqBox,
      options.currencies.length > 1 ? form.field('currency', t('widget-donate-currency'), currencySelect) : null,
      amountBox,
      coverField,
      form.field('dedicate', t('widget-donate-dedicate'), dedicate),
      dedication,
      form.field('email', t('widget-email'), email, { hint: t('widget-donate-email-hint') }),
      form.field('name', t('widget-name'), name, { optional: true }),
      option(host, 'newsletter', '') === 'true' ? form.field('newsletter_opt_in', t('widget-donate-newsletter'), optIn) : null,
      form.button,
      h('p', { class: 'fd-hint', text: t(options.redirects_to_checkout ? 'widget-donate-checkout-hint' : 'widget-donate-pledge-hint') })
    );
    w.box.append(form.el, w.status);
    renderPresets();
    update();

    function renderPresets() {
      const amounts = currency.presets[frequency] || [];
      if (preset != null && !amounts.includes(preset)) preset = null;
      if (preset == null && !custom.value.trim() && amounts.length) preset = amounts[Math.min(1, amounts.length - 1)];
      presetBox.replaceChildren(...amounts.map((minor) => h('button', {
        type: 'button', class: 'fd-preset', 'data-amount': String(minor), 'aria-pressed': String(minor === preset),
        text: frequency === 'monthly' ? t('widget-donate-per-month', { amount: fmt(minor, currency.code, currency.decimals) }) : fmt(minor, currency.code, currency.decimals),
        onclick: () => { preset = minor; custom.value = ''; syncPresets(); update(); },
      })));
    }

    function syncPresets() {
      for (const b of presetBox.children) b.setAttribute('aria-pressed', String(Number(b.dataset.amount) === preset));
    }

    /** The amount in minor units, `null` when none is chosen, or `NaN` when unreadable;
     * typed with the language's decimal mark (12.50 or 12,50), group marks ignored. */
    function amount() {
      if (preset != null) return preset;
      const raw = decimalComma ? custom.value.replace(/[\s.]/g, '').replace(',', '.') : custom.value.replace(/[\s,]/g, '');
      if (!raw) return null;
      const re = currency.decimals ? new RegExp('^\\d+(\\.\\d{1,' + currency.decimals + '})?$') : /^\d+$/;
      return re.test(raw) ? Math.round(parseFloat(raw) * 10 ** currency.decimals) : NaN;
    }

    function example() {
      const d = currency.decimals;
      return new Intl.NumberFormat(t.lang, { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false }).format(d ? 12.5 : 250);
    }

    function fee(minor) {
      const bp = Math.round(options.fee_percent * 100);
      return Math.ceil(((minor + options.fee_fixed_minor) * 10000) / (10000 - bp)) - minor;
    }

    function update() {
      const minor = amount();
      const ok = Number.isFinite(minor) && minor > 0;
      const total = ok ? minor + (cover.checked ? fee(minor) : 0) : 0;
      form.fields.cover_fees.wrap.querySelector('label').textContent = ok
        ? t('widget-donate-cover-fees-amount', { fee: fmt(fee(minor), currency.code, currency.decimals) })
        : t('widget-donate-cover-fees');
      form.button.textContent = ok
        ? t(frequency === 'monthly' ? 'widget-donate-button-monthly' : 'widget-donate-button-amount', { amount: fmt(total, currency.code, currency.decimals) })
        : t('widget-donate-button');
    }

    async function submit() {
      const minor = amount();
      if (minor == null || Number.isNaN(minor)) {
        form.setError('amount_minor', minor == null ? t('widget-donate-amount-missing') : t('widget-donate-amount-invalid', { whole: '25', decimal: example() }));
        w.say(t('widget-error-fix-fields'), 'error');
        custom.focus();
        return;
      }
      const params = new URLSearchParams(location.search);
      const utm = {};
      for (const k of ['source', 'medium', 'campaign', 'term', 'content']) if (params.get('utm_' + k)) utm[k] = params.get('utm_' + k);
      const body = {
        amount_minor: minor,
        currency: currency.code,
        frequency,
        email: email.value,
        name: name.value || undefined,
        cover_fees: cover.checked,
        dedication: dedicate.checked ? { kind: kind.value, name: honoree.value } : undefined,
        source_url: articleUrl(host),
        campaign: option(host, 'campaign', undefined),
        utm: Object.keys(utm).length ? utm : undefined,
        newsletter_opt_in: optIn.checked || undefined,
      };
      const sent = JSON.stringify(body);
      // A retry of a request that got no answer keeps its key: the server answers it once.
      const key = pending && pending.sent === sent ? pending.key : (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      pending = { key, sent };
      let gift;
      try {
        gift = await call(w, '/api/v1/donations', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      } catch (e) {
        if (e.status) pending = null;
        throw e;
      }
      pending = null;
      const paid = fmt(gift.total_minor, gift.currency, currency.decimals);
      if (gift.checkout_url) {
        w.say(t('widget-donate-redirecting'), 'success');
        location.assign(gift.checkout_url);
        return;
      }
      form.el.hidden = true;
      w.box.append(h('div', { class: 'fd-done', tabindex: '-1' },
        h('p', { class: 'fd-big', text: t('widget-donate-thanks') }),
        h('p', { text: t(gift.frequency === 'monthly' ? 'widget-donate-recorded-monthly' : 'widget-donate-recorded', { amount: paid }) })));
      w.say(t('widget-donate-status', { amount: paid }), 'success');
      w.box.querySelector('.fd-done').focus();
    }
  };

  // ---- helpful ----

  const REASONS = ['factual_error', 'unclear', 'missing_context', 'too_long', 'other'];

  widgets.helpful = async (w) => {
    const { host, t } = w;
    const article = articleUrl(host);
    const qid = 'fd' + ++uid;
    let vote = null;
    const buttons = [true, false].map((helpful) => h('button', {
      type: 'button', class: 'fd-button fd-vote', 'aria-pressed': 'false', 'data-helpful': String(helpful),
      text: t(helpful ? 'widget-helpful-yes' : 'widget-helpful-no'), onclick: () => send(helpful),
    }));
    const more = new Form(w, t('widget-helpful-send'), async () => {
      await call(w, '/api/v1/feedback', {
        method: 'POST', credentials: 'include',
        body: { article_url: article, helpful: vote, reason: reason.value || undefined, comment: comment.value || undefined },
      });
      more.el.hidden = true;
      w.say(t('widget-helpful-sent'), 'success');
    });
    const reason = h('select', {}, h('option', { value: '', text: t('widget-helpful-choose-reason') }));
    const comment = h('textarea', { rows: '3', maxlength: '2000' });
    const reasonField = more.field('reason', t('widget-helpful-reason'), reason, { optional: true });
    more.el.append(h('p', { class: 'fd-lead', text: t('widget-helpful-more') }), reasonField,
      more.field('comment', t('widget-helpful-comment'), comment, { optional: true }), more.button);
    more.el.hidden = true;
    w.box.append(h('p', { class: 'fd-question', id: qid, text: text(w, 'heading', 'widget-helpful-question') }),
      h('div', { class: 'fd-choices', role: 'group', 'aria-labelledby': qid }, buttons), w.status, more.el);

    let reasonsLoaded = false;
    async function loadReasons() {
      if (reasonsLoaded) return;
      reasonsLoaded = true;
      const opts = await call(w, '/api/v1/feedback/options').catch(() => ({ reasons: REASONS }));
      reason.dataset.loaded = 'true';
      const label = (r) => { const m = t('widget-reason-' + r); return m === 'widget-reason-' + r ? r.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) : m; };
      reason.append(...opts.reasons.map((r) => h('option', { value: r, text: label(r) })));
    }

    async function send(helpful) {
      if (buttons.some((b) => b.disabled)) return;
      buttons.forEach((b) => { b.disabled = true; });
      w.say('');
      try {
        await call(w, '/api/v1/feedback', { method: 'POST', credentials: 'include', body: { article_url: article, helpful } });
        vote = helpful;
        buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.helpful === String(helpful))));
        let line = t('widget-helpful-thanks');
        try {
          const s = await call(w, '/api/v1/feedback/summary?article_url=' + encodeURIComponent(article));
          line += ' ' + t('widget-helpful-summary', { helpful: s.helpful, total: s.total });
        } catch (e) { /* the vote counts; the summary is a courtesy */ }
        w.say(line, 'success');
        reasonField.hidden = helpful;
        more.el.hidden = false;
        loadReasons();
      } catch (e) {
        w.say((e.problem && (e.problem.errors || [])[0] ? e.problem.errors[0].message : e.problem && e.problem.detail) || t('widget-helpful-failed'), 'error');
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    }
  };

  // ---- comment ----

  widgets.comment = async (w) => {
    const { host, t } = w;
    let token = null;
    const form = new Form(w, t('widget-comment-send'), async () => {
      const tip = secret.checked;
      const reply = await call(w, '/api/v1/comments', {
        method: 'POST',
        body: {
          name: name.value, email: email.value, subject: subject.value || undefined, message: message.value,
          article_url: articleUrl(host), website: trap.value || undefined, form_token: token || undefined,
          confidential: tip || undefined,
        },
      });
      form.el.hidden = true;
      const done = h('div', { class: 'fd-done', tabindex: '-1' },
        h('p', { class: 'fd-big', text: t(tip ? 'widget-comment-tip-received' : 'widget-comment-thanks') }),
        h('p', {}, t.parts(tip ? 'widget-comment-reference-tip' : 'widget-comment-reference-reply',
          { reference: h('strong', { class: 'fd-reference', text: reply.reference }) })));
      w.box.append(done);
      w.say(t('widget-comment-status', { reference: reply.reference }), 'success');
      done.focus();
    });
    const name = h('input', { type: 'text', autocomplete: 'name', required: true, 'aria-required': 'true' });
    const email = h('input', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true' });
    const subject = h('input', { type: 'text' });
    const message = h('textarea', { rows: '6', required: true, 'aria-required': 'true', maxlength: '10000' });
    const trap = h('input', { type: 'text', name: 'website', tabindex: '-1', autocomplete: 'off' });
    // Offered only when the newsroom takes confidential tips (the token's answer says so).
    const secret = h('input', { type: 'checkbox' });
    const secretField = form.field('confidential', t('widget-comment-confidential'), secret, { hint: t('widget-comment-confidential-hint') });
    secretField.hidden = true;
    form.el.append(
      form.field('name', t('widget-name'), name),
      form.field('email', t('widget-email'), email, { hint: t('widget-comment-email-hint') }),
      form.field('subject', t('widget-comment-subject'), subject, { optional: true }),
      form.field('message', t('widget-comment-message'), message),
      secretField,
      h('div', { class: 'fd-trap', 'aria-hidden': 'true' }, h('label', { text: t('widget-comment-trap') }, trap)),
      form.button
    );
    const open = h('button', { type: 'button', class: 'fd-button fd-secondary', 'aria-expanded': 'false', text: text(w, 'buttonLabel', 'widget-comment-open') });
    w.box.append(heading(w, 'widget-comment-heading'), open, form.el, w.status);

    // The time-trap token starts when the form is shown.
    async function fetchToken() {
      const answer = await call(w, '/api/v1/comments/token').catch(() => ({}));
      token = answer.token;
      if (answer.confidential && secretField.hidden) {
        secretField.hidden = false;
        if (answer.secure_contact_note) secretField.append(h('p', { class: 'fd-hint', text: answer.secure_contact_note }));
      }
    }
    async function show() {
      open.setAttribute('aria-expanded', 'true');
      open.hidden = true;
      form.el.hidden = false;
      name.focus();
      await fetchToken();
    }
    form.el.id = 'fd' + ++uid;
    open.setAttribute('aria-controls', form.el.id);
    open.addEventListener('click', show);
    form.el.hidden = true;
    if (option(host, 'open', '') === 'true') {
      open.hidden = true;
      form.el.hidden = false;
      await fetchToken();
    }
  };

  // ---- newsletter ----

  widgets.newsletter = async (w) => {
    const { host, t } = w;
    const fixed = (option(host, 'lists', '') || '').split(',').map((s) => s.trim()).filter(Boolean);
    const email = h('input', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true' });
    const boxes = [];
    const form = new Form(w, t('widget-newsletter-subscribe'), async () => {
      const lists = fixed.length ? fixed : boxes.filter((b) => b.checked).map((b) => b.value);
      if (boxes.length && !lists.length) {
        form.setError('lists', t('widget-newsletter-choose-one'));
        w.say(t('widget-error-fix-fields'), 'error');
        boxes[0].focus();
        return;
      }
      await call(w, '/api/v1/newsletter/subscriptions', {
        method: 'POST',
        body: { email: email.value, lists: lists.length ? lists : undefined, source_url: articleUrl(host) },
      });
      form.el.hidden = true;
      const done = h('div', { class: 'fd-done', tabindex: '-1' },
        h('p', { class: 'fd-big', text: t('widget-newsletter-check-inbox') }),
        h('p', { text: t('widget-newsletter-sent', { email: email.value.trim() }) }));
      w.box.append(done);
      w.say(t('widget-newsletter-status'), 'success');
      done.focus();
    });
    w.box.append(heading(w, 'widget-newsletter-heading'), h('p', { class: 'fd-lead', text: text(w, 'intro', 'widget-newsletter-intro') }), form.el, w.status);
    form.el.append(form.field('email', t('widget-email'), email));
    if (!fixed.length) {
      const lists = await call(w, '/api/v1/newsletter/lists').catch(() => []);
      if (lists.length > 1) {
        const set = h('fieldset', { class: 'fd-lists' }, h('legend', { text: t('widget-newsletter-lists') }));
        for (const l of lists) {
          const box = h('input', { type: 'checkbox', value: l.slug, checked: true });
          boxes.push(box);
          set.append(h('div', { class: 'fd-field fd-check' }, box, h('label', {}, h('strong', { text: l.name }), l.description ? ' \u2014 ' + l.description : '')));
          box.id = 'fd' + ++uid;
          box.nextSibling.setAttribute('for', box.id);
        }
        form.el.append(form.group('lists', set, boxes[0]));
      }
    }
    form.el.append(form.button);
  };

  // ---- jobs ----

  widgets.jobs = async (w) => {
    const { host, t } = w;
    /** A value's label (`widget-employment-full_time`), else the value as sent. */
    const label = (prefix, value) => { const m = value && t(prefix + value); return m === prefix + value ? value : m; };
    w.box.append(heading(w, 'widget-jobs-heading'), w.status);
    let jobs;
    try {
      jobs = await call(w, '/api/v1/jobs');
    } catch (e) {
      w.say(t('widget-jobs-unavailable'), 'error');
      return;
    }
    const limit = parseInt(option(host, 'limit', '0'), 10) || jobs.length;
    if (!jobs.length) {
      w.say(t('widget-jobs-none'));
      return;
    }
    w.box.insertBefore(h('ul', { class: 'fd-job-list' }, jobs.slice(0, limit).map((j) => h('li', { class: 'fd-job' },
      h('a', { href: j.url, class: 'fd-job-title', text: j.title }),
      h('p', { class: 'fd-meta', text: [j.location, label('widget-employment-', j.employment_type), label('widget-workplace-', j.remote)].filter(Boolean).join(' \u00b7 ') +
        (j.closes_at ? ' \u00b7 ' + t('widget-jobs-apply-by', { date: new Date(j.closes_at).toLocaleDateString(t.lang, { day: 'numeric', month: 'long', year: 'numeric' }) }) : '') }),
      j.summary ? h('p', { text: j.summary }) : null))), w.status);
  };

  // ---- start ----

  function mount(host) {
    const kind = host.dataset.frontdesk;
    if (!widgets[kind] || host.shadowRoot || !host.attachShadow) return;
    const w = frame(host, kind);
    catalogue(w.base, langOf(host))
      .then((messages) => { w.t = translator(messages); host.setAttribute('data-frontdesk-lang', w.t.lang); return widgets[kind](w); })
      .catch(() => {
        if (!w.status.isConnected) w.box.append(w.status);
        w.say(w.t('widget-error-load'), 'error');
      });
  }

  function start(root) {
    (root || document).querySelectorAll('[data-frontdesk]').forEach(mount);
  }

  window.Frontdesk = { start };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => start());
  else start();
})();
