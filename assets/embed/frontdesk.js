/*! Frontdesk reader widgets: donate, helpful, comment, newsletter, jobs.
 * One dependency-free script; no build step. Usage and options: docs/embedding.md.
 * Each <div data-frontdesk="KIND"> becomes a widget in its own shadow root, talking only
 * to the Frontdesk API (by default the origin this script was loaded from). */
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

  function heading(host, text) {
    const level = Math.min(6, Math.max(2, parseInt(option(host, 'headingLevel', '2'), 10) || 2));
    return h('h' + level, { class: 'fd-title', text: option(host, 'heading', text) });
  }

  /** A JSON API call. Rejects with `{status, problem}` (problem+json) or `{status: 0}`. */
  async function call(base, path, { method = 'GET', body, headers = {}, credentials = 'omit' } = {}) {
    let res;
    try {
      res = await fetch(base + path, {
        method,
        mode: 'cors',
        credentials,
        headers: Object.assign(
          { Accept: 'application/json' },
          body ? { 'Content-Type': 'application/json' } : {},
          headers
        ),
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw { status: 0, problem: { detail: 'We could not reach the server. Check your connection and try again.' } };
    }
    const data = await res.json().catch(() => null);
    if (!res.ok) throw { status: res.status, problem: data || { detail: 'Something went wrong; please try again.' } };
    return data;
  }

  function money(minor, currency, decimals) {
    const unit = 10 ** decimals;
    const places = minor % unit ? decimals : 0;
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, {
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
      const labelEl = h('label', { for: id }, label, optional ? h('span', { class: 'fd-optional', text: ' (optional)' }) : null);
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
        ? ['Please correct the marked fields.'].concat(unplaced).join(' ')
        : problem.detail || problem.title || 'Something went wrong; please try again.';
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
    const host = w.host;
    w.box.append(heading(host, 'Support our journalism'), h('p', { class: 'fd-lead', text: option(host, 'intro', 'Your gift keeps our reporting independent and free for everyone.') }));
    let options;
    try {
      options = await call(w.base, '/api/v1/donations/options');
    } catch (e) {
      w.box.append(w.status);
      w.say('Donations cannot be taken right now. Please try again later.', 'error');
      return;
    }
    const wanted = (option(host, 'currency', '') || '').toUpperCase();
    let currency = options.currencies.find((c) => c.code === wanted) || options.currencies[0];
    let frequency = option(host, 'frequency', 'one_time') === 'monthly' ? 'monthly' : 'one_time';
    let preset = null;
    let pending = null; // {key, body} of a request that never got an answer
    const form = new Form(w, 'Donate', submit);

    const freqBox = h('fieldset', { class: 'fd-segmented' }, h('legend', { text: 'How often' }));
    for (const [value, label] of [['one_time', 'One time'], ['monthly', 'Monthly']]) {
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
    const amountBox = h('fieldset', { class: 'fd-amount' }, h('legend', { text: 'Amount' }), presetBox,
      form.field('custom_amount', 'Other amount', custom, { cls: 'fd-custom' }));
    form.group('amount_minor', amountBox, custom);

    const cover = h('input', { type: 'checkbox', onchange: () => update() });
    const coverField = form.field('cover_fees', 'Cover the processing fee', cover);
    const dedicate = h('input', { type: 'checkbox', onchange: () => { dedication.hidden = !dedicate.checked; } });
    const kind = h('select', {}, h('option', { value: 'honor', text: 'In honor of' }), h('option', { value: 'memory', text: 'In memory of' }));
    const honoree = h('input', { type: 'text', autocomplete: 'off' });
    const dedication = h('div', { class: 'fd-dedication', hidden: true },
      form.field('dedication.kind', 'Dedication', kind), form.field('dedication.name', 'Their name', honoree));
    const email = h('input', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true' });
    const name = h('input', { type: 'text', autocomplete: 'name' });
    const optIn = h('input', { type: 'checkbox' });

    put(form.el,
      freqBox,
      options.currencies.length > 1 ? form.field('currency', 'Currency', currencySelect) : null,
      amountBox,
      coverField,
      form.field('dedicate', 'Dedicate this gift to someone', dedicate),
      dedication,
      form.field('email', 'Email', email, { hint: 'For your receipt.' }),
      form.field('name', 'Name', name, { optional: true }),
      option(host, 'newsletter', '') === 'true' ? form.field('newsletter_opt_in', 'Also send me the newsletter', optIn) : null,
      form.button,
      h('p', { class: 'fd-hint', text: options.redirects_to_checkout ? 'You will pay on our payment provider\u2019s secure page.' : 'We will email you how to pay.' })
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
        text: money(minor, currency.code, currency.decimals) + (frequency === 'monthly' ? '/mo' : ''),
        onclick: () => { preset = minor; custom.value = ''; syncPresets(); update(); },
      })));
    }

    function syncPresets() {
      for (const b of presetBox.children) b.setAttribute('aria-pressed', String(Number(b.dataset.amount) === preset));
    }

    /** The amount in minor units, `null` when none is chosen, or `NaN` when unreadable. */
    function amount() {
      if (preset != null) return preset;
      const raw = custom.value.replace(/[\s,]/g, '');
      if (!raw) return null;
      const re = currency.decimals ? new RegExp('^\\d+(\\.\\d{1,' + currency.decimals + '})?$') : /^\d+$/;
      return re.test(raw) ? Math.round(parseFloat(raw) * 10 ** currency.decimals) : NaN;
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
        ? 'Add ' + money(fee(minor), currency.code, currency.decimals) + ' to cover the processing fee'
        : 'Cover the processing fee';
      form.button.textContent = ok
        ? 'Donate ' + money(total, currency.code, currency.decimals) + (frequency === 'monthly' ? ' monthly' : '')
        : 'Donate';
    }

    async function submit() {
      const minor = amount();
      if (minor == null || Number.isNaN(minor)) {
        form.setError('amount_minor', minor == null ? 'Choose or enter an amount.' : 'Enter an amount like 25 or 12.50.');
        w.say('Please correct the marked fields.', 'error');
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
      const text = JSON.stringify(body);
      // A retry of a request that got no answer keeps its key: the server answers it once.
      const key = pending && pending.text === text ? pending.key : (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      pending = { key, text };
      let gift;
      try {
        gift = await call(w.base, '/api/v1/donations', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
      } catch (e) {
        if (e.status) pending = null;
        throw e;
      }
      pending = null;
      if (gift.checkout_url) {
        w.say('Taking you to the secure payment page\u2026', 'success');
        location.assign(gift.checkout_url);
        return;
      }
      form.el.hidden = true;
      w.box.append(h('div', { class: 'fd-done', tabindex: '-1' },
        h('p', { class: 'fd-big', text: 'Thank you for your pledge!' }),
        h('p', { text: 'Your ' + (gift.frequency === 'monthly' ? 'monthly ' : '') + 'gift of ' + money(gift.total_minor, gift.currency, currency.decimals) + ' is recorded. We have emailed you how to pay.' })));
      w.say('Thank you! Your pledge of ' + money(gift.total_minor, gift.currency, currency.decimals) + ' is recorded; check your email for how to pay.', 'success');
      w.box.querySelector('.fd-done').focus();
    }
  };

  // ---- helpful ----

  const REASONS = {
    factual_error: 'It has a factual error',
    unclear: 'It was unclear',
    missing_context: 'It is missing context',
    too_long: 'It was too long',
    other: 'Something else',
  };

  widgets.helpful = async (w) => {
    const host = w.host;
    const article = articleUrl(host);
    const qid = 'fd' + ++uid;
    let vote = null;
    const buttons = [true, false].map((helpful) => h('button', {
      type: 'button', class: 'fd-button fd-vote', 'aria-pressed': 'false', 'data-helpful': String(helpful),
      text: helpful ? 'Yes' : 'No', onclick: () => send(helpful),
    }));
    const more = new Form(w, 'Send', async () => {
      await call(w.base, '/api/v1/feedback', {
        method: 'POST', credentials: 'include',
        body: { article_url: article, helpful: vote, reason: reason.value || undefined, comment: comment.value || undefined },
      });
      more.el.hidden = true;
      w.say('Thank you, your answer was sent.', 'success');
    });
    const reason = h('select', {}, h('option', { value: '', text: 'Choose a reason' }));
    const comment = h('textarea', { rows: '3', maxlength: '2000' });
    const reasonField = more.field('reason', 'What could be better?', reason, { optional: true });
    more.el.append(h('p', { class: 'fd-lead', text: 'Tell us more' }), reasonField,
      more.field('comment', 'Your comment', comment, { optional: true }), more.button);
    more.el.hidden = true;
    w.box.append(h('p', { class: 'fd-question', id: qid, text: option(host, 'heading', 'Was this content helpful?') }),
      h('div', { class: 'fd-choices', role: 'group', 'aria-labelledby': qid }, buttons), w.status, more.el);

    let reasonsLoaded = false;
    async function loadReasons() {
      if (reasonsLoaded) return;
      reasonsLoaded = true;
      const opts = await call(w.base, '/api/v1/feedback/options').catch(() => ({ reasons: Object.keys(REASONS) }));
      reason.dataset.loaded = 'true';
      reason.append(...opts.reasons.map((r) => h('option', { value: r, text: REASONS[r] || r.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()) })));
    }

    async function send(helpful) {
      if (buttons.some((b) => b.disabled)) return;
      buttons.forEach((b) => { b.disabled = true; });
      w.say('');
      try {
        await call(w.base, '/api/v1/feedback', { method: 'POST', credentials: 'include', body: { article_url: article, helpful } });
        vote = helpful;
        buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.helpful === String(helpful))));
        let line = 'Thanks for your feedback.';
        try {
          const s = await call(w.base, '/api/v1/feedback/summary?article_url=' + encodeURIComponent(article));
          line += ' ' + s.helpful + ' of ' + s.total + (s.total === 1 ? ' reader' : ' readers') + ' found this helpful.';
        } catch (e) { /* the vote counts; the summary is a courtesy */ }
        w.say(line, 'success');
        reasonField.hidden = helpful;
        more.el.hidden = false;
        loadReasons();
      } catch (e) {
        w.say((e.problem && (e.problem.errors || [])[0] ? e.problem.errors[0].message : e.problem && e.problem.detail) || 'Your answer could not be sent.', 'error');
      } finally {
        buttons.forEach((b) => { b.disabled = false; });
      }
    }
  };

  // ---- comment ----

  widgets.comment = async (w) => {
    const host = w.host;
    let token = null;
    const form = new Form(w, 'Send comment', async () => {
      const tip = secret.checked;
      const reply = await call(w.base, '/api/v1/comments', {
        method: 'POST',
        body: {
          name: name.value, email: email.value, subject: subject.value || undefined, message: message.value,
          article_url: articleUrl(host), website: trap.value || undefined, form_token: token || undefined,
          confidential: tip || undefined,
        },
      });
      form.el.hidden = true;
      const done = h('div', { class: 'fd-done', tabindex: '-1' },
        h('p', { class: 'fd-big', text: tip ? 'Your confidential tip is received.' : 'Thank you for your comment.' }),
        h('p', {}, 'Your reference is ', h('strong', { class: 'fd-reference', text: reply.reference }),
          tip ? '. Note it: we send no email about a tip.' : '. We read every message and reply when we can.'));
      w.box.append(done);
      w.say('Comment sent. Your reference is ' + reply.reference + '.', 'success');
      done.focus();
    });
    const name = h('input', { type: 'text', autocomplete: 'name', required: true, 'aria-required': 'true' });
    const email = h('input', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true' });
    const subject = h('input', { type: 'text' });
    const message = h('textarea', { rows: '6', required: true, 'aria-required': 'true', maxlength: '10000' });
    const trap = h('input', { type: 'text', name: 'website', tabindex: '-1', autocomplete: 'off' });
    // Offered only when the newsroom takes confidential tips (the token's answer says so).
    const secret = h('input', { type: 'checkbox' });
    const secretField = form.field('confidential', 'Send as a confidential tip', secret, {
      hint: 'Stored encrypted, read only by named editors, never sent by email. We cannot protect your own device or network, or hide that and when you wrote to us.',
    });
    secretField.hidden = true;
    form.el.append(
      form.field('name', 'Name', name),
      form.field('email', 'Email', email, { hint: 'We reply to this address; it is never published.' }),
      form.field('subject', 'Subject', subject, { optional: true }),
      form.field('message', 'Your comment', message),
      secretField,
      h('div', { class: 'fd-trap', 'aria-hidden': 'true' }, h('label', { text: 'Leave this field empty' }, trap)),
      form.button
    );
    const open = h('button', { type: 'button', class: 'fd-button fd-secondary', 'aria-expanded': 'false', text: option(host, 'buttonLabel', 'Send us your comments') });
    w.box.append(heading(host, 'What are your thoughts?'), open, form.el, w.status);

    // The time-trap token starts when the form is shown.
    async function fetchToken() {
      const t = await call(w.base, '/api/v1/comments/token').catch(() => ({}));
      token = t.token;
      if (t.confidential && secretField.hidden) {
        secretField.hidden = false;
        if (t.secure_contact_note) secretField.append(h('p', { class: 'fd-hint', text: t.secure_contact_note }));
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
    const host = w.host;
    const fixed = (option(host, 'lists', '') || '').split(',').map((s) => s.trim()).filter(Boolean);
    const email = h('input', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true' });
    const boxes = [];
    const form = new Form(w, 'Subscribe', async () => {
      const lists = fixed.length ? fixed : boxes.filter((b) => b.checked).map((b) => b.value);
      if (boxes.length && !lists.length) {
        form.setError('lists', 'Choose at least one newsletter.');
        w.say('Please correct the marked fields.', 'error');
        boxes[0].focus();
        return;
      }
      await call(w.base, '/api/v1/newsletter/subscriptions', {
        method: 'POST',
        body: { email: email.value, lists: lists.length ? lists : undefined, source_url: articleUrl(host) },
      });
      form.el.hidden = true;
      const done = h('div', { class: 'fd-done', tabindex: '-1' },
        h('p', { class: 'fd-big', text: 'Check your inbox' }),
        h('p', { text: 'We sent a confirmation link to ' + email.value.trim() + '. Your subscription starts when you open it.' }));
      w.box.append(done);
      w.say('Almost done: check your inbox to confirm your subscription.', 'success');
      done.focus();
    });
    w.box.append(heading(host, 'Get our newsletter'), h('p', { class: 'fd-lead', text: option(host, 'intro', 'Our best reporting in your inbox. Unsubscribe at any time.') }), form.el, w.status);
    form.el.append(form.field('email', 'Email', email));
    if (!fixed.length) {
      const lists = await call(w.base, '/api/v1/newsletter/lists').catch(() => []);
      if (lists.length > 1) {
        const set = h('fieldset', { class: 'fd-lists' }, h('legend', { text: 'Newsletters' }));
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

  const EMPLOYMENT = { full_time: 'Full-time', part_time: 'Part-time', contractor: 'Contract', temporary: 'Temporary', intern: 'Internship', volunteer: 'Volunteer', per_diem: 'Per diem', other: 'Other' };
  const WORKPLACE = { remote: 'Remote', hybrid: 'Hybrid', on_site: 'On-site' };

  widgets.jobs = async (w) => {
    const host = w.host;
    w.box.append(heading(host, 'Work with us'), w.status);
    let jobs;
    try {
      jobs = await call(w.base, '/api/v1/jobs');
    } catch (e) {
      w.say('Open positions cannot be shown right now.', 'error');
      return;
    }
    const limit = parseInt(option(host, 'limit', '0'), 10) || jobs.length;
    if (!jobs.length) {
      w.say('There are no open positions right now.');
      return;
    }
    w.box.insertBefore(h('ul', { class: 'fd-job-list' }, jobs.slice(0, limit).map((j) => h('li', { class: 'fd-job' },
      h('a', { href: j.url, class: 'fd-job-title', text: j.title }),
      h('p', { class: 'fd-meta', text: [j.location, EMPLOYMENT[j.employment_type] || j.employment_type, WORKPLACE[j.remote] || j.remote].filter(Boolean).join(' \u00b7 ') +
        (j.closes_at ? ' \u00b7 Apply by ' + new Date(j.closes_at).toLocaleDateString(document.documentElement.lang || undefined, { day: 'numeric', month: 'long', year: 'numeric' }) : '') }),
      j.summary ? h('p', { text: j.summary }) : null))), w.status);
  };

  // ---- start ----

  function mount(host) {
    const kind = host.dataset.frontdesk;
    if (!widgets[kind] || host.shadowRoot || !host.attachShadow) return;
    const w = frame(host, kind);
    widgets[kind](w).catch(() => {
      if (!w.status.isConnected) w.box.append(w.status);
      w.say('This part of the page could not be loaded. Please try again later.', 'error');
    });
  }

  function start(root) {
    (root || document).querySelectorAll('[data-frontdesk]').forEach(mount);
  }

  window.Frontdesk = { start };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => start());
  else start();
})();
