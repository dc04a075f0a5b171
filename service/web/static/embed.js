/* Comments embed: one <script> tag renders an article's approved comments and a form to post.
   Plain JavaScript, no dependencies. Every piece of data is rendered as text (createTextNode /
   textContent), never parsed as HTML. Styles live in embed.css, loaded into a shadow root.

   Language: data-lang on the script tag (the site's choice), else the page's lang; texts come
   from EN below or, for another language, from /embed/i18n/<lang>.json, fetched before the embed
   is drawn. Dates and numbers go through Intl in that language, with the reader's region when
   the browser names one for it (de on the page, de-AT in the browser: Austrian formats). */
(function (start) {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var LANGS = ["en", "de", "fr", "es", "ar", "he"];
  var holder = script.closest && script.closest("[lang]");
  var tag = (script.dataset.lang || (holder && holder.getAttribute("lang")) || "en").toLowerCase().replace(/_/g, "-");
  var lang = tag.split("-")[0];
  if (LANGS.indexOf(lang) < 0) { lang = "en"; tag = "en"; }
  var reader = (navigator.languages || [navigator.language]).filter(function (l) {
    return l && l.toLowerCase().split("-")[0] === lang;
  })[0];
  var locale = tag.indexOf("-") > 0 ? tag : reader || lang;
  // A tag Intl refuses (lang="de-1") would stop the embed: the language alone will do.
  try { Intl.getCanonicalLocales(locale); } catch (e) { locale = lang; }
  if (lang === "en") return start(script, "en", locale, {});
  fetch(new URL("/embed/i18n/" + lang + ".json", script.src).href, { credentials: "omit" })
    .then(function (res) { return res.ok ? res.json() : null; })
    .catch(function () { return null; })
    .then(function (catalog) {
      // Without its catalog the embed speaks English rather than not at all.
      if (catalog) start(script, lang, locale, catalog);
      else start(script, "en", "en", {});
    });
})(function (script, lang, locale, catalog) {
  "use strict";
  // Every text the embed shows, through t(key, vars). {name} marks a value; a text whose wording
  // depends on a number is an object of Intl.PluralRules categories. A new text goes here and,
  // under the same key, into every static/i18n/*.json (a browser test compares the keys).
  var EN = {
    comments: "Comments",
    count: { one: "{n} comment", other: "{n} comments" },
    empty: "No comments yet. Be the first to comment.",
    more: "Load more comments",
    load_failed: "Comments could not be loaded.",
    try_again: "Try again",
    write: "Write a comment",
    text: "Your comment",
    name: "Name",
    email: "E-mail (optional)",
    email_hint: "Never shown publicly.",
    notify: "E-mail me replies (needs an e-mail)",
    notify_email: "Give an e-mail address to get the replies.",
    trap: "Leave this field empty",
    post: "Post comment",
    posting: "Posting…",
    as: "Commenting as {name}",
    signed_in: "a signed-in reader",
    you: "You",
    replying: "Replying to {name}",
    cancel_reply: "Cancel reply",
    need_text: "Please write a comment.",
    need_name: "Please give a name.",
    bad_field: "Please check this field.",
    published: "Your comment is published.",
    rejected: "Your comment was not published because it breaks this site's rules.",
    awaiting: "Thanks! Your comment is awaiting review and will appear once a moderator approves it.",
    parent_gone: "The comment you reply to is no longer available.",
    post_offline: "Could not reach the comment service. Check your connection and try again — your comment will not be posted twice.",
    expired_post: "Your sign-in has expired. Please sign in again to comment.",
    sign_in: "Sign in to comment: this site takes comments from signed-in readers only.",
    stale: "This page is out of date. Please reload it and post again.",
    too_fast: "You are posting too fast.",
    retry_in: { one: "Please try again in {n} second.", other: "Please try again in {n} seconds." },
    closed: "Comments are closed for this article.",
    forbidden: "Comments cannot be posted from this page: the site does not allow it.",
    failed: "Something went wrong. Please try again.",
    comment_by: "Comment by {name}",
    reply: "Reply",
    reply_to: "Reply to {name}", // the Reply button's name for screen readers: holds its text
    like: "Like",
    like_label: "Like {n}, comment by {name}", // holds the button's text, "Like" and its count
    like_too_fast: "Too many likes. Please try again in a minute.",
    like_failed: "Your like could not be saved. Please try again.",
    sort_label: "Sort by",
    sort_newest: "Newest first",
    sort_oldest: "Oldest first",
    sort_top: "Most liked",
    featured: "Featured",
    featured_title: "Featured comments",
    edit: "Edit",
    delete: "Delete",
    save: "Save",
    confirm_delete: "Delete this comment?",
    yes_delete: "Yes, delete",
    edited: "(edited)",
    pending: "Awaiting review — only you can see this.",
    deleted: "This comment was deleted.",
    edit_published: "Your edit is published.",
    edit_held: "Your edit is awaiting review.",
    edit_rejected: "Your edit breaks this site's rules and is not published.",
    edit_late: "The time to edit this comment is over.",
    not_yours: "This comment can no longer be changed from this browser.",
    did_not_work: "That did not work. Please try again.",
    more_replies: "Show more replies ({n})",
    report: "Report",
    report_illegal: "Report illegal content",
    cancel: "Cancel",
    report_title: "Report this comment",
    report_why: "Why should moderators look at this comment?",
    reason_spam: "Spam",
    reason_abuse: "Abusive or hateful",
    "reason_off-topic": "Off-topic",
    reason_other: "Something else",
    send_report: "Send report",
    reported: "Thank you. The moderators will take a look.",
    reported_before: "You have already reported this comment.",
    too_many_reports: "Too many reports.",
    unpublished: "This comment is no longer published.",
    expired_report: "Your sign-in has expired. Please sign in again to report.",
    report_failed: "The report could not be sent.",
    offline: "Could not reach the comment service. Please try again.",
    notice_law: "Which law does it break?",
    notice_why: "Why is this comment illegal?",
    notice_name: "Your name",
    notice_email: "Your e-mail (for the decision; not shown to anyone else)",
    notice_faith: "I confirm in good faith that this notice is accurate and complete.",
    send_notice: "Send notice",
    notice_received: "Thank you. Your notice (number {id}) was received. Follow the decision here: {url}",
    check_fields: "Please check the highlighted fields.",
    too_many_notices: "Too many notices.",
    comment_gone: "This comment no longer exists.",
    expired: "Your sign-in has expired. Please sign in again.",
    notice_failed: "The notice could not be sent.",
    // The legal grounds a notice of illegal content names (EU DSA Art. 16): the DSA Transparency
    // Database's statement categories, without their STATEMENT_CATEGORY_ prefix.
    ILLEGAL_OR_HARMFUL_SPEECH: "Illegal or harmful speech (e.g. hate speech, defamation)",
    VIOLENCE: "Violence (e.g. threats, incitement to violence)",
    CYBER_VIOLENCE: "Cyber violence (e.g. harassment, stalking)",
    CYBER_VIOLENCE_AGAINST_WOMEN: "Cyber violence against women",
    PROTECTION_OF_MINORS: "Protection of minors",
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS: "Data protection and privacy violations",
    INTELLECTUAL_PROPERTY_INFRINGEMENTS: "Intellectual property infringements",
    SCAMS_AND_FRAUD: "Scams and/or fraud",
    RISK_FOR_PUBLIC_SECURITY: "Risk for public security (e.g. terrorist content)",
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS: "Negative effects on civic discourse or elections",
    SELF_HARM: "Self-harm",
    UNSAFE_AND_PROHIBITED_PRODUCTS: "Unsafe, non-compliant or prohibited products",
    CONSUMER_INFORMATION: "Consumer information infringements",
    ANIMAL_WELFARE: "Animal welfare",
    NOT_SPECIFIED_NOTICE: "Another kind of illegal content"
  };
  var plural = new Intl.PluralRules(locale);
  var numbers = new Intl.NumberFormat(locale);
  var dates = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  // The text for `key` in the reader's language, its {names} replaced by `vars` (numbers
  // formatted for the locale; a number named n also picks the plural form).
  function t(key, vars) {
    var text = catalog[key] || EN[key] || key;
    if (typeof text === "object") {
      var form = plural.select(vars.n);
      text = text[form] || text.other || EN[key][form] || EN[key].other;
    }
    return text.replace(/\{(\w+)\}/g, function (all, name) {
      var value = vars[name];
      return typeof value === "number" && name === "n" ? numbers.format(value) : value;
    });
  }
  var base = new URL(script.src, location.href).origin;
  var cfg = script.dataset;
  var siteKey = cfg.siteKey;
  var articleId = cfg.articleId;
  if (!siteKey || !articleId) {
    if (window.console) console.error("comments embed: data-site-key and data-article-id are required");
    return;
  }
  var article = {
    id: articleId,
    title: cfg.articleTitle || document.title || articleId,
    url: cfg.articleUrl || location.href.split("#")[0]
  };
  // Signed-in readers: the page gives the site's reader token in data-reader-token, or names a
  // global function (data-reader-token-callback) returning one, or a Promise of one; the embed
  // asks it again when the service says the token expired.
  var tokenCallback = cfg.readerTokenCallback || null;
  var readerToken = cfg.readerToken || null;
  var articleToken = cfg.articleToken || null;
  var REPORT_REASONS = ["spam", "abuse", "off-topic", "other"];
  var NOTICE_CATEGORIES = [
    "ILLEGAL_OR_HARMFUL_SPEECH", "VIOLENCE", "CYBER_VIOLENCE", "CYBER_VIOLENCE_AGAINST_WOMEN",
    "PROTECTION_OF_MINORS", "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "SCAMS_AND_FRAUD", "RISK_FOR_PUBLIC_SECURITY", "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "SELF_HARM", "UNSAFE_AND_PROHIBITED_PRODUCTS", "CONSUMER_INFORMATION", "ANIMAL_WELFARE", "NOT_SPECIFIED_NOTICE"
  ];
  var uid = 0;

  // --- DOM helpers: text only -------------------------------------------------------------
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === false || attrs[k] == null) continue;
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    (kids || []).forEach(function (kid) {
      if (kid != null) node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid);
    });
    return node;
  }
  // Performance marks for bench/embed_render.py: the page of comments arrived, then drawn.
  function mark(name) { if (window.performance && performance.mark) performance.mark(name); }
  function id(name) { uid += 1; return "cms-" + name + "-" + uid; }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function when(iso) {
    var d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
    return isNaN(d) ? "" : dates.format(d);
  }
  // A text with one {name} in it, the name in bold: the words around it come from the catalog.
  function withName(key, name) {
    var parts = (catalog[key] || EN[key]).split("{name}");
    return [parts[0], el("strong", { text: name }), parts[1] || ""];
  }

  // The author tokens of the reader's comments, kept in this browser per comment:
  // {id: [token, editable_until]}.
  var OWN_KEY = "cms-own:" + base + ":" + articleId;
  function owned() {
    try { return JSON.parse(localStorage.getItem(OWN_KEY)) || {}; } catch (e) { return {}; }
  }
  function own(cid, entry) {
    var all = owned();
    if (entry === undefined) return all[cid];
    if (entry) all[cid] = entry; else delete all[cid];
    try { localStorage.setItem(OWN_KEY, JSON.stringify(all)); } catch (e) { /* private mode: no self-service */ }
  }
  function ownTokens() {
    var all = owned();
    return Object.keys(all).slice(-50).map(function (k) { return all[k][0]; }).join(",");
  }

  // --- API --------------------------------------------------------------------------------
  function api(method, path, body, extra) {
    var headers = { Authorization: "Bearer " + siteKey, Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    for (var h in extra || {}) headers[h] = extra[h];
    return fetch(base + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined, credentials: "omit" })
      .then(function (res) {
        return res.text().then(function (raw) {
          var data = null;
          try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
          return { status: res.status, ok: res.ok, data: data || {}, headers: res.headers };
        });
      });
  }

  function askToken() {
    var fn = tokenCallback && window[tokenCallback];
    if (typeof fn !== "function") return Promise.resolve(readerToken);
    // A page that never answers must not leave the form disabled: after 10 s, post as anonymous.
    var answer = new Promise(function (resolve) { resolve(fn()); });
    var late = new Promise(function (resolve) { setTimeout(function () { resolve(null); }, 10000); });
    return Promise.race([answer, late]).then(function (t) {
      return typeof t === "string" && t ? t : null;
    }, function () { return null; });
  }
  // The reader's name, read from the token's payload for display only: the service verifies it.
  function tokenName(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var bytes = atob(part + "===".slice((part.length + 3) % 4));
      var claims = JSON.parse(decodeURIComponent(Array.prototype.map.call(bytes, function (c) {
        return "%" + ("0" + c.charCodeAt(0).toString(16)).slice(-2);
      }).join("")));
      return typeof claims.name === "string" ? claims.name : null;
    } catch (e) { return null; }
  }
  function retryAfter(res) { return parseInt(res.headers.get("Retry-After"), 10) || 60; }
  function isBadToken(res) { return res.status === 401 && res.data.code === "invalid-reader-token"; }
  // Send with the reader's token; when the service says it is no longer valid, ask the page once
  // for a new one and send the same request again (`build` makes the body from the token).
  function withToken(method, path, build, extra) {
    return api(method, path, build(readerToken), extra).then(function (res) {
      if (!isBadToken(res) || !tokenCallback) return res;
      var stale = readerToken;
      return askToken().then(function (fresh) {
        if (!fresh || fresh === stale) return res;
        setReader(fresh);
        return api(method, path, build(fresh), extra);
      });
    });
  }

  // --- layout -----------------------------------------------------------------------------
  mark("cms-start");
  var rtl = lang === "ar" || lang === "he";
  var host = el("div", { class: "cms-comments", lang: lang, dir: rtl ? "rtl" : "ltr" });
  script.parentNode.insertBefore(host, script.nextSibling);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: base + "/embed.css" }));
  var wrap = el("section", { class: "cms", lang: lang, dir: rtl ? "rtl" : "ltr", "aria-label": t("comments") });
  root.appendChild(wrap);

  var heading = el("h2", { class: "cms-title", text: t("comments") });
  var notice = el("p", { class: "cms-notice", role: "status", "aria-live": "polite", tabindex: "-1", hidden: true });
  // What a screen reader announces after a post ("published", "awaiting review"): always in the
  // page and empty until then, as live regions added with their text are often not read.
  var live = el("p", { class: "cms-live", role: "status", "aria-live": "polite" });
  var list = el("ol", { class: "cms-list", "aria-label": t("comments") });
  var empty = el("p", { class: "cms-empty", text: t("empty"), hidden: true });
  var moreBtn = el("button", { type: "button", class: "cms-btn cms-more", hidden: true, text: t("more") });
  var loadError = el("p", { class: "cms-msg cms-error", role: "alert", hidden: true });
  var sortId = id("sort");
  var sortSelect = el("select", { id: sortId, class: "cms-sort" }, ["newest", "oldest", "top"].map(function (o) { return el("option", { value: o, text: t("sort_" + o) }); }));
  var sortRow = el("div", { class: "cms-sort-row" }, [el("label", { for: sortId, text: t("sort_label") }), sortSelect]);
  var featuredList = el("ol", { class: "cms-featured-list" });
  var featuredBox = el("section", { class: "cms-featured", "aria-label": t("featured_title"), hidden: true }, [
    el("h3", { class: "cms-featured-title", text: t("featured") }), featuredList]);
  var nextCursor = null;
  var total = 0;
  var closed = false;

  // --- the form ---------------------------------------------------------------------------
  var fields = {};
  function field(name, label, input, hint) {
    var fid = id(name);
    var err = el("span", { class: "cms-field-error", id: fid + "-err", hidden: true });
    input.id = fid;
    input.setAttribute("aria-describedby", fid + "-err" + (hint ? " " + fid + "-hint" : ""));
    fields[name] = { input: input, error: err };
    return el("div", { class: "cms-field cms-field-" + name }, [
      el("label", { for: fid, text: label }),
      hint ? el("span", { class: "cms-hint", id: fid + "-hint", text: hint }) : null,
      input, err
    ]);
  }
  var replyTo = null;
  var replyLine = el("p", { class: "cms-replying", hidden: true });
  var submitBtn = el("button", { type: "submit", class: "cms-btn cms-primary", text: t("post") });
  // Not a live region: an error is read as the message takes the focus, a success by `live`.
  var formMsg = el("p", { class: "cms-msg", tabindex: "-1", hidden: true });
  var asLine = el("p", { class: "cms-as", hidden: true });
  var identityRow = el("div", { class: "cms-row" }, [
    field("name", t("name"), el("input", { name: "name", type: "text", maxlength: "80", autocomplete: "name", required: true })),
    field("email", t("email"), el("input", { name: "email", type: "email", maxlength: "320", autocomplete: "email" }), t("email_hint"))
  ]);
  // A field people never see nor reach (off-screen, out of the tab order, hidden from screen
  // readers, no autofill): whatever fills it is a script. Not display:none, which bots skip.
  var trap = el("input", { type: "text", name: "cms_hp_homepage_7", tabindex: "-1", autocomplete: "off", value: "" });
  var trapId = id("hp");
  trap.id = trapId;
  var honeypot = el("div", { class: "cms-hp", "aria-hidden": "true" }, [el("label", { for: trapId, text: t("trap") }), trap]);
  var notifyBox = el("input", { type: "checkbox", name: "notify_replies" });
  var form = el("form", { class: "cms-form", novalidate: true, "aria-label": t("write") }, [
    replyLine,
    asLine,
    field("text", t("text"), el("textarea", { name: "text", rows: "4", maxlength: "5000", required: true })),
    identityRow,
    honeypot,
    // The opt-in before the button, in reading and in Tab order alike.
    el("div", { class: "cms-actions" }, [el("label", { class: "cms-notify" }, [notifyBox, " " + t("notify")]), submitBtn])
  ]);
  var formSlot = el("div", { class: "cms-form-slot" }, [form]);
  wrap.appendChild(heading);
  wrap.appendChild(formSlot);
  wrap.appendChild(formMsg);
  wrap.appendChild(notice);
  wrap.appendChild(live);
  wrap.appendChild(loadError);
  wrap.appendChild(empty);
  wrap.appendChild(featuredBox);
  wrap.appendChild(sortRow);
  wrap.appendChild(list);
  wrap.appendChild(moreBtn);

  function setReader(token) {
    readerToken = token || null;
    var name = readerToken && tokenName(readerToken);
    while (asLine.firstChild) asLine.removeChild(asLine.firstChild);
    if (readerToken) withName("as", name || t("signed_in")).forEach(function (part) {
      asLine.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    asLine.hidden = !readerToken;
    identityRow.hidden = !!readerToken;
  }

  // The render token dates when the form was shown; the service holds a comment posted sooner
  // than min_seconds after it as a possible bot. A fresh one after each post.
  var render = null; // {token, ready (ms, when a post is no longer too soon)}
  var renderPending = null;
  function fetchRenderToken() {
    renderPending = api("POST", "/v1/render-tokens", { article_id: articleId }).then(function (res) {
      render = res.status === 201 && res.data.render_token
        ? { token: res.data.render_token, ready: Date.now() + (Number(res.data.min_seconds) || 0) * 1000 + 100 }
        : null;
      if (!render) renderPending = null; // asked again at the next post
    }, function () { render = null; renderPending = null; });
    return renderPending;
  }
  // Waits out whatever is left of min_seconds (only someone pasting at once is that quick):
  // the comment then goes through instead of waiting for a moderator.
  function renderTokenReady() {
    return (renderPending || fetchRenderToken()).then(function () {
      var wait = render ? render.ready - Date.now() : 0;
      return new Promise(function (resolve) { setTimeout(resolve, Math.max(0, wait)); });
    }).then(function () { return render && render.token; });
  }

  function setReply(comment, slot) {
    replyTo = comment;
    clearReplyLine();
    if (comment) {
      replyLine.appendChild(document.createTextNode(t("replying", { name: comment.author.name }) + " "));
      replyLine.appendChild(el("button", { type: "button", class: "cms-link", text: t("cancel_reply"), onclick: cancelReply }));
      replyLine.hidden = false;
      slot.appendChild(form);
      slot.appendChild(formMsg);
      fields.text.input.focus();
    } else {
      replyLine.hidden = true;
      formSlot.appendChild(form);
      formSlot.parentNode.insertBefore(formMsg, formSlot.nextSibling);
    }
  }
  // Cancel reply (or Escape in the reply's form) gives the focus back to the Reply button.
  function cancelReply() {
    var item = replyTo && list.querySelector('[data-comment-id="' + replyTo.id + '"]');
    setReply(null);
    var button = item && item.querySelector("[data-action=reply]");
    (button || fields.text.input).focus();
  }
  onEscape(form, function () { if (replyTo) cancelReply(); });
  function onEscape(node, close) {
    node.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.preventDefault(); close(); }
    });
  }
  function clearReplyLine() { while (replyLine.firstChild) replyLine.removeChild(replyLine.firstChild); }

  function clearErrors() {
    for (var k in fields) {
      fields[k].error.hidden = true;
      fields[k].error.textContent = "";
      fields[k].input.removeAttribute("aria-invalid");
    }
  }
  function fieldError(name, message) {
    var f = fields[name];
    f.error.textContent = message;
    f.error.hidden = false;
    f.input.setAttribute("aria-invalid", "true");
  }
  function say(node, text, kind) {
    show(node, text, kind);
    node.focus();
  }
  function show(node, text, kind) {
    node.textContent = text;
    node.className = "cms-msg" + (kind ? " cms-" + kind : "");
    node.hidden = false;
  }
  // Shown by the form and announced once; the focus stays where the reader is, or comes back
  // to the comment box when the form it was in moved (after a reply).
  function announce(text, kind) {
    show(formMsg, text, kind);
    live.textContent = "";
    setTimeout(function () { live.textContent = text; }, 50);
    if (!root.activeElement || root.activeElement === document.body) fields.text.input.focus();
  }

  var pending = null; // {body, key}: a submission whose answer never came; retried with the same key
  var FIELD_NAMES = { text: "text", "author.name": "name", "author.email": "email", notify_replies: "email" };

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (submitBtn.disabled) return;
    clearErrors();
    var body = { article: article, text: fields.text.input.value };
    if (!readerToken) {
      body.author = { name: fields.name.input.value.trim() };
      var email = fields.email.input.value.trim();
      if (email) body.author.email = email;
    }
    if (replyTo) body.parent_id = replyTo.id;
    if (notifyBox.checked) body.notify_replies = true;
    var missing = false;
    if (!body.text.trim()) { fieldError("text", t("need_text")); missing = "text"; }
    if (body.author && !body.author.name) { fieldError("name", t("need_name")); missing = missing || "name"; }
    if (missing) { fields[missing].input.focus(); return; }

    // Tokens prove things about the request; the same words again are the same request.
    var serial = JSON.stringify(body);
    var key = pending && pending.body === serial ? pending.key : newKey();
    pending = { body: serial, key: key };
    submitBtn.disabled = true;
    submitBtn.textContent = t("posting");
    renderTokenReady().then(function (renderToken) {
      return withToken("POST", "/v1/comments", function (token) {
        var sent = JSON.parse(serial);
        if (token) sent.reader_token = token;
        if (articleToken) sent.article_token = articleToken;
        if (renderToken) sent.render_token = renderToken;
        sent.honeypot = trap.value;
        return sent;
      }, { "Idempotency-Key": key });
    }).then(function (res) { pending = null; handlePosted(res, body); },
            function () { say(formMsg, t("post_offline"), "error"); })
      .then(function () {
        if (!submitBtn.dataset.wait) { submitBtn.disabled = closed; submitBtn.textContent = t("post"); }
      });
  });

  function handlePosted(res, body) {
    var d = res.data;
    if (res.status === 201) {
      fetchRenderToken();
      var parent = replyTo;
      fields.text.input.value = "";
      if (d.author_token) own(d.id, [d.author_token, d.editable_until]);
      if (d.status === "approved") {
        var author = body.author || { name: tokenName(readerToken) || t("you") };
        var node = { id: d.id, parent_id: d.parent_id, author: author, text: body.text, created_at: d.created_at, replies: [] };
        setReply(null);
        addComment(node, parent);
        announce(t("published"), "ok");
      } else if (d.status === "rejected") {
        setReply(null);
        say(formMsg, t("rejected"), "error");
      } else {
        setReply(null);
        addComment({ id: d.id, parent_id: d.parent_id, author: body.author || { name: tokenName(readerToken) || t("you") }, text: body.text, created_at: d.created_at, pending: true, replies: [] }, parent, true);
        announce(t("awaiting"), "info");
      }
      return;
    }
    if (res.status === 422 && d.errors) {
      var general = [];
      var first = null;
      d.errors.forEach(function (e) {
        var name = FIELD_NAMES[e.field];
        // The service explains in English; other languages say which field to check.
        if (name) { fieldError(name, lang === "en" ? e.message : t(e.field === "notify_replies" ? "notify_email" : "bad_field")); first = first || name; }
        else general.push(e.field === "parent_id" ? t("parent_gone") : lang === "en" ? e.field + ": " + e.message : t("failed"));
      });
      if (general.length) say(formMsg, general.join(" "), "error");
      else if (first) { formMsg.hidden = true; fields[first].input.focus(); }
      return;
    }
    if (isBadToken(res)) {
      say(formMsg, t("expired_post"), "error");
      return;
    }
    if (res.status === 401 && d.code === "reader-token-required") {
      say(formMsg, t("sign_in"), "error");
      return;
    }
    if (res.status === 401 && d.code === "invalid-article-claim") {
      say(formMsg, t("stale"), "error");
      return;
    }
    if (res.status === 429) {
      var wait = retryAfter(res);
      say(formMsg, t("too_fast") + " " + t("retry_in", { n: wait }), "error");
      submitBtn.dataset.wait = "1";
      submitBtn.disabled = true;
      setTimeout(function () { delete submitBtn.dataset.wait; submitBtn.disabled = closed; submitBtn.textContent = t("post"); }, wait * 1000);
      return;
    }
    if (res.status === 409 && d.code === "article-closed") {
      setClosed();
      say(formMsg, t("closed"), "error");
      return;
    }
    if (res.status === 403) {
      say(formMsg, t("forbidden"), "error");
      return;
    }
    say(formMsg, lang === "en" && (d.detail || d.title) ? (d.detail || d.title) + ". Please try again." : t("failed"), "error");
  }

  function setClosed() {
    closed = true;
    form.hidden = true;
    submitBtn.disabled = true;
    notice.textContent = t("closed");
    notice.hidden = false;
  }

  // --- the thread -------------------------------------------------------------------------
  // The thread is drawn in one pass per page (a fragment appended once) and has one click
  // listener (featured comments included): each button names its action, its item holds the comment.
  function action(name, text, label, expanded) {
    return el("button", { type: "button", class: "cms-link", "data-action": name, text: text, "aria-label": label, "aria-expanded": expanded });
  }
  function renderComment(c) {
    var repliesList = el("ol", { class: "cms-replies" });
    var slot = el("div", { class: "cms-slot" });
    if (c.deleted) return withReplies(el("li", { class: "cms-comment cms-deleted", "data-comment-id": String(c.id) }, [
      el("article", {}, [el("p", { class: "cms-text", text: t("deleted") })]), repliesList]), c, repliesList);
    var body = el("div", { class: "cms-text", text: c.text });
    var actions = el("div", { class: "cms-comment-actions" }, [
      likeButton(c, slot),
      closed ? null : action("reply", t("reply"), t("reply_to", { name: c.author.name })),
      action("report", t("report"), null, "false"),
      action("notice", t("report_illegal"), null, "false")
    ]);
    if (own(c.id)) ownControls(c, body, actions, slot);
    var item = el("li", { class: "cms-comment", "data-comment-id": String(c.id) }, [
      el("article", { "aria-label": t("comment_by", { name: c.author.name }) }, [
        el("div", { class: "cms-meta" }, [
          el("span", { class: "cms-author", text: c.author.name }),
          el("time", { datetime: c.created_at, text: when(c.created_at) }),
          c.featured ? el("span", { class: "cms-badge", text: t("featured") }) : null,
          c.edited_at ? el("span", { class: "cms-edited", text: t("edited") }) : null,
          c.pending ? el("span", { class: "cms-pending-note", text: t("pending") }) : null
        ]),
        body,
        actions,
        slot
      ]),
      repliesList
    ]);
    item._comment = c;
    item._slot = slot;
    if (c.pending) { // not published: nothing to reply to or report yet
      item.className += " cms-pending";
      [].forEach.call(actions.querySelectorAll(":scope > :not(.cms-own)"), function (b) { b.remove(); });
    }
    return withReplies(item, c, repliesList);
  }
  function withReplies(item, c, repliesList) {
    item._replies = repliesList;
    (c.replies || []).forEach(function (r) { repliesList.appendChild(renderComment(r)); });
    if (c.more_replies) moreReplies(item, c);
    return item;
  }
  wrap.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-action]");
    if (!button) return;
    var item = button.closest(".cms-comment");
    var name = button.getAttribute("data-action");
    if (name === "reply") setReply(item._comment, item._slot);
    else if (name === "report") openReport(item._comment, item._slot, button);
    else openNotice(item._comment, item._slot, button);
  });

  // Likes: the service counts one per reader; this browser remembers which it liked, to show them
  // pressed (the thread is the same for every reader, so it cannot say).
  var LIKED_KEY = "cms-liked:" + siteKey;
  var liked = {};
  try { (JSON.parse(localStorage.getItem(LIKED_KEY)) || []).forEach(function (i) { liked[i] = true; }); } catch (e) { /* storage off */ }
  function saveLiked() {
    try { localStorage.setItem(LIKED_KEY, JSON.stringify(Object.keys(liked).slice(-500))); } catch (e) { /* storage off */ }
  }
  function showLike(button, c) {
    button.setAttribute("aria-pressed", liked[c.id] ? "true" : "false");
    button.setAttribute("aria-label", t("like_label", { name: c.author.name, n: c.likes || 0 }));
    button.lastChild.textContent = numbers.format(c.likes || 0);
  }
  function likeButton(c, slot) {
    var button = el("button", { type: "button", class: "cms-link cms-like", "data-like": String(c.id) },
      [el("span", { text: t("like") }), " ", el("span", { class: "cms-count" })]);
    showLike(button, c);
    button.addEventListener("click", function () {
      var all = root.querySelectorAll('[data-like="' + c.id + '"]');
      all.forEach(function (b) { b.disabled = true; });
      withToken(liked[c.id] ? "DELETE" : "POST", "/v1/comments/" + c.id + "/reactions", function (token) {
        return token ? { reader_token: token } : {};
      }).then(function (res) {
        var old = slot.querySelector(".cms-like-msg");
        if (old) old.remove();
        if (res.ok) {
          c.likes = res.data.likes;
          if (res.data.reacted) liked[c.id] = true; else delete liked[c.id];
          saveLiked();
          all.forEach(function (b) { showLike(b, c); });
          return;
        }
        var msg = el("p", { class: "cms-msg cms-like-msg", role: "status", tabindex: "-1" });
        slot.appendChild(msg);
        say(msg, t(res.status === 429 ? "like_too_fast" : res.status === 404 ? "unpublished" : "like_failed"), "error");
      }, function () {
        var msg = el("p", { class: "cms-msg cms-like-msg", role: "status", tabindex: "-1" });
        slot.appendChild(msg);
        say(msg, t("like_failed"), "error");
      }).then(function () { all.forEach(function (b) { b.disabled = false; }); });
    });
    return button;
  }

  // "Show more replies (N)": the rest of a long thread, a page at a time, each reply under its parent.
  function moreReplies(item, c) {
    var cursor = c.more_replies;
    var left = c.reply_count - item.querySelectorAll(".cms-replies .cms-comment").length;
    var btn = el("button", { type: "button", class: "cms-link cms-more-replies", text: t("more_replies", { n: left }) });
    btn.addEventListener("click", function () {
      btn.disabled = true;
      api("GET", "/v1/comments/" + c.id + "/replies?limit=100&cursor=" + encodeURIComponent(cursor)).then(function (res) {
        btn.disabled = false;
        if (!res.ok) return;
        res.data.replies.forEach(function (r) {
          if (item.querySelector('[data-comment-id="' + r.id + '"]')) return; // heard live already
          var parent = r.parent_id === c.id ? item : item.querySelector('[data-comment-id="' + r.parent_id + '"]');
          (parent || item)._replies.appendChild(renderComment(r)); // a parent not shown: under the thread's root
          left -= 1;
        });
        cursor = res.data.next_cursor;
        btn.textContent = t("more_replies", { n: Math.max(left, 1) });
        btn.hidden = !cursor;
      }, function () { btn.disabled = false; });
    });
    item.appendChild(btn);
  }

  // Edit (while the site's window is open) and delete, on the reader's own comments.
  function ownControls(c, body, actions, slot) {
    var entry = own(c.id);
    var msg = el("p", { class: "cms-msg", role: "status", "aria-live": "polite", tabindex: "-1", hidden: true });
    slot.appendChild(msg);
    function send(method, payload) {
      return api(method, "/v1/comments/" + c.id, payload, { "Author-Token": entry[0] }).then(function (res) {
        if (res.status === 403 || res.status === 401) { own(c.id, null); say(msg, t("not_yours"), "error"); }
        else if (res.data.code === "edit-window-closed") { editBtn.remove(); say(msg, t("edit_late"), "error"); }
        else if (!res.ok) say(msg, (lang === "en" && res.data.detail) || t("did_not_work"), "error");
        return res;
      }, function () { say(msg, t("did_not_work"), "error"); return { ok: false, data: {} }; });
    }
    var editBtn = el("button", { type: "button", class: "cms-link cms-own", text: t("edit"), onclick: function () {
      var area = el("textarea", { rows: "4", maxlength: "5000", "aria-label": t("edit") });
      area.value = body.textContent;
      var box = el("form", { class: "cms-report cms-edit" }, [area, el("div", { class: "cms-row" }, [
        el("button", { type: "submit", class: "cms-btn", text: t("save") }),
        el("button", { type: "button", class: "cms-link", text: t("cancel"), onclick: function () { box.remove(); body.hidden = false; } })])]);
      box.addEventListener("submit", function (ev) {
        ev.preventDefault();
        send("PATCH", { text: area.value }).then(function (res) {
          if (!res.ok) return;
          box.remove();
          body.textContent = res.data.text;
          body.hidden = false;
          var st = res.data.status;
          say(msg, st === "approved" ? t("edit_published") : st === "rejected" ? t("edit_rejected") : t("edit_held"), st === "approved" ? "ok" : "info");
        });
      });
      body.hidden = true;
      body.parentNode.insertBefore(box, body.nextSibling);
      area.focus();
    } });
    if (entry[1] && new Date(entry[1]) > new Date()) actions.appendChild(editBtn);
    actions.appendChild(el("button", { type: "button", class: "cms-link cms-own", text: t("delete"), onclick: function () {
      var box = el("div", { class: "cms-report cms-confirm", role: "group" }, [t("confirm_delete"), " ",
        el("button", { type: "button", class: "cms-btn", text: t("yes_delete"), onclick: function () {
          send("DELETE").then(function (res) {
            if (res.status !== 204) return;
            own(c.id, null);
            var item = slot.closest(".cms-comment");
            if (!c.pending) { total -= 1; updateHeading(); }
            if (!item._replies.firstChild) return item.remove();
            var gone = renderComment({ id: c.id, deleted: true, replies: [] });
            while (item._replies.firstChild) gone._replies.appendChild(item._replies.firstChild);
            item.replaceWith(gone);
          });
        } }),
        el("button", { type: "button", class: "cms-link", text: t("cancel"), onclick: function () { box.remove(); } })]);
      slot.appendChild(box);
    } }));
  }

  function openReport(c, slot, button) {
    var existing = slot.querySelector(".cms-report");
    if (existing) { existing.remove(); button.setAttribute("aria-expanded", "false"); return; }
    var sid = id("reason");
    var select = el("select", { id: sid }, REPORT_REASONS.map(function (r) { return el("option", { value: r, text: t("reason_" + r) }); }));
    var msg = el("p", { class: "cms-msg", tabindex: "-1", hidden: true }); // read as it takes the focus
    var send = el("button", { type: "submit", class: "cms-btn", text: t("send_report") });
    // Cancel or Escape closes it and gives the focus back to the button that opened it.
    function close() { box.remove(); button.setAttribute("aria-expanded", "false"); button.focus(); }
    var box = el("form", { class: "cms-report", "aria-label": t("report_title") }, [
      el("label", { for: sid, text: t("report_why") }),
      el("div", { class: "cms-row" }, [select, send,
        el("button", { type: "button", class: "cms-link", text: t("cancel"), onclick: close })]),
      msg
    ]);
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send.disabled = true;
      withToken("POST", "/v1/comments/" + c.id + "/reports", function (token) {
        var sent = { reason: select.value };
        if (token) sent.reader_token = token;
        return sent;
      }).then(function (res) {
        if (res.status === 201) say(msg, t("reported"), "ok");
        else if (res.status === 409) say(msg, t("reported_before"), "info");
        else if (res.status === 429) say(msg, t("too_many_reports") + " " + t("retry_in", { n: retryAfter(res) }), "error");
        else if (res.status === 404) say(msg, t("unpublished"), "info");
        else if (isBadToken(res)) { send.disabled = false; say(msg, t("expired_report"), "error"); }
        else { send.disabled = false; say(msg, t("report_failed"), "error"); }
      }, function () { send.disabled = false; say(msg, t("offline"), "error"); });
    });
    onEscape(box, close);
    slot.appendChild(box);
    button.setAttribute("aria-expanded", "true");
    select.focus();
  }

  // A notice of illegal content (EU DSA Art. 16): the legal ground, why, who sends it, and the
  // good-faith statement. The answer is a link where the reporter follows the decision.
  function openNotice(c, slot, button) {
    var existing = slot.querySelector(".cms-notice");
    if (existing) { existing.remove(); button.setAttribute("aria-expanded", "false"); return; }
    function field(label, control) {
      var fid = id("notice");
      control.id = fid;
      return el("div", { class: "cms-field" }, [el("label", { for: fid, text: label }), control,
        el("span", { class: "cms-field-error", hidden: true })]);
    }
    var category = el("select", { name: "category" }, NOTICE_CATEGORIES.map(function (r) { return el("option", { value: "STATEMENT_CATEGORY_" + r, text: t(r) }); }));
    var explanation = el("textarea", { name: "explanation", rows: "3", maxlength: "4000", required: true });
    var name = el("input", { name: "name", type: "text", maxlength: "100", autocomplete: "name", required: true });
    var email = el("input", { name: "email", type: "email", maxlength: "320", autocomplete: "email", required: true });
    var faith = el("input", { name: "good_faith", type: "checkbox", required: true });
    var fields = {
      category: field(t("notice_law"), category),
      explanation: field(t("notice_why"), explanation),
      name: field(t("notice_name"), name),
      email: field(t("notice_email"), email)
    };
    var faithId = id("notice");
    faith.id = faithId;
    var msg = el("p", { class: "cms-msg", tabindex: "-1", hidden: true }); // read as it takes the focus
    var send = el("button", { type: "submit", class: "cms-btn", text: t("send_notice") });
    function close() { box.remove(); button.setAttribute("aria-expanded", "false"); button.focus(); }
    var box = el("form", { class: "cms-report cms-notice", "aria-label": t("report_illegal"), novalidate: true }, [
      fields.category, fields.explanation, el("div", { class: "cms-row" }, [fields.name, fields.email]),
      el("div", { class: "cms-field" }, [el("label", { for: faithId }, [faith, " " + t("notice_faith")]),
        el("span", { class: "cms-field-error", hidden: true })]),
      el("div", { class: "cms-row" }, [send,
        el("button", { type: "button", class: "cms-link", text: t("cancel"), onclick: close })]),
      msg
    ]);
    fields.good_faith = faith.parentNode.parentNode;
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      box.querySelectorAll(".cms-field-error").forEach(function (n) { n.hidden = true; });
      send.disabled = true;
      withToken("POST", "/v1/comments/" + c.id + "/notices", function (token) {
        var sent = { category: category.value, explanation: explanation.value, name: name.value, email: email.value, good_faith: faith.checked };
        if (token) sent.reader_token = token;
        return sent;
      }).then(function (res) {
        if (res.status === 201) {
          box.querySelectorAll("input, select, textarea").forEach(function (n) { n.disabled = true; });
          say(msg, t("notice_received", { id: res.data.id, url: base + res.data.status_path }), "ok");
          return;
        }
        send.disabled = false;
        if (res.status === 422 && res.data.errors) {
          res.data.errors.forEach(function (e) {
            var f = fields[e.field];
            var slotError = f && f.querySelector(".cms-field-error");
            if (slotError) { slotError.textContent = lang === "en" ? e.message : t("bad_field"); slotError.hidden = false; }
          });
          say(msg, t("check_fields"), "error");
        } else if (res.status === 429) say(msg, t("too_many_notices") + " " + t("retry_in", { n: retryAfter(res) }), "error");
        else if (res.status === 404) say(msg, t("comment_gone"), "info");
        else if (isBadToken(res)) say(msg, t("expired"), "error");
        else say(msg, t("notice_failed"), "error");
      }, function () { send.disabled = false; say(msg, t("offline"), "error"); });
    });
    onEscape(box, close);
    slot.appendChild(box);
    button.setAttribute("aria-expanded", "true");
    category.focus();
  }

  function addComment(c, parent, unpublished) {
    var seen = list.querySelector('[data-comment-id="' + c.id + '"]');
    if (seen) { // posted here and heard live (first): its author gets their controls
      if (own(c.id) && !seen.querySelector(".cms-own")) seen.replaceWith(renderComment(c));
      return;
    }
    var node = renderComment(c);
    var parentItem = parent && list.querySelector('[data-comment-id="' + parent.id + '"]');
    if (parentItem) parentItem._replies.appendChild(node);
    else list.insertBefore(node, list.firstChild);
    if (unpublished) { empty.hidden = true; return; }
    total += 1;
    updateHeading();
    empty.hidden = true;
  }

  function updateHeading() { heading.textContent = t("count", { n: total }); }

  function load(cursor) {
    var path = "/v1/articles/" + encodeURIComponent(articleId) + "/comments?limit=20&sort=" + sortSelect.value + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    moreBtn.disabled = true;
    var mine = !cursor && ownTokens();
    return api("GET", path, null, mine ? { "Author-Token": mine } : null).then(function (res) {
      moreBtn.disabled = false;
      if (!res.ok) throw new Error(res.data.detail || "HTTP " + res.status);
      loadError.hidden = true;
      var d = res.data;
      total = d.total || 0;
      updateHeading();
      if (d.article && d.article.closed) setClosed();
      if (!cursor) {
        featuredList.textContent = "";
        (d.featured || []).forEach(function (c) { featuredList.appendChild(renderComment(c)); });
        featuredBox.hidden = !featuredList.children.length;
      }
      mark("cms-data");
      var page = document.createDocumentFragment();
      d.comments.forEach(function (c) {
        if (!list.querySelector('[data-comment-id="' + c.id + '"]')) page.appendChild(renderComment(c));
      });
      list.appendChild(page);
      mark("cms-thread");
      (d.awaiting_review || []).forEach(function (c) { addComment(c, c.parent_id && { id: c.parent_id }, true); });
      empty.hidden = list.children.length > 0 || closed;
      nextCursor = d.next_cursor;
      moreBtn.hidden = !nextCursor;
    }).catch(function () {
      moreBtn.disabled = false;
      loadError.textContent = "";
      loadError.appendChild(document.createTextNode(t("load_failed") + " "));
      loadError.appendChild(el("button", { type: "button", class: "cms-link", text: t("try_again"), onclick: function () { load(cursor); } }));
      loadError.hidden = false;
    });
  }
  moreBtn.addEventListener("click", function () { load(nextCursor); });
  sortSelect.addEventListener("change", function () { list.textContent = ""; load(null); });
  // Live: new approved comments come as Server-Sent Events; without EventSource, or when the
  // service has no room (503), the first page is polled (fetch revalidates it with its ETag).
  function arrived(c) {
    var parent = c.parent_id && list.querySelector('[data-comment-id="' + c.parent_id + '"]');
    if (!c.parent_id || parent) addComment(c, parent ? { id: c.parent_id } : null);
    (c.replies || []).forEach(arrived);
  }
  function poll() {
    setTimeout(function () {
      api("GET", "/v1/articles/" + encodeURIComponent(articleId) + "/comments?limit=20").then(function (res) {
        if (res.ok) res.data.comments.slice().reverse().forEach(arrived);
      }).then(poll, poll);
    }, 30000);
  }
  function follow() {
    if (!window.EventSource) return poll();
    var shown = 0;
    list.querySelectorAll("[data-comment-id]").forEach(function (n) { shown = Math.max(shown, +n.dataset.commentId); });
    var source = new EventSource(base + "/v1/articles/" + encodeURIComponent(articleId) + "/events?key=" + encodeURIComponent(siteKey) + "&last_event_id=" + shown);
    source.addEventListener("comment", function (ev) { arrived(JSON.parse(ev.data)); });
    source.onerror = function () { if (source.readyState === EventSource.CLOSED) poll(); };
  }
  load(null).then(follow);
  fetchRenderToken();
  if (tokenCallback) {
    // Who is posting is known once the page answers; until then there is nothing to send.
    identityRow.hidden = true;
    submitBtn.disabled = true;
    askToken().then(function (token) {
      setReader(token);
      if (!submitBtn.dataset.wait) submitBtn.disabled = closed;
    });
  } else if (readerToken) setReader(readerToken);
});
