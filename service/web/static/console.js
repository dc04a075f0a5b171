/* The moderator console: queues, decisions, audit trail, statistics and webhook deliveries.
   Plain JavaScript over the moderation API. Comment data only ever becomes text nodes or
   attribute values set through the DOM; nothing from the API is parsed as HTML. */
(function () {
  "use strict";
  var KEY_STORE = "cms.console.key";
  var DEFAULT_REASONS = ["spam", "abuse", "off-topic", "personal-data", "other"];
  var LABELS = ["toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "sexual_explicit", "spam"];
  var QUEUES = [["held", "Held"], ["reported", "Reported"], ["pending", "Pending"], ["rejected", "Rejected"], ["approved", "Approved"]];
  var VERBS = { approved: "Approved", rejected: "Rejected", held: "Held" };
  var SVG = "http://www.w3.org/2000/svg";

  var state = {
    key: null, csrf: null, me: null, site: "", queue: "held", items: [], cursor: null,
    active: -1, selected: {}, view: "queue", single: null
  };

  // --- helpers ----------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, kids);
    return node;
  }
  function svg(tag, attrs, kids) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, kids);
    return node;
  }
  function setAttrs(node, attrs) {
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === false || v == null) continue;
      if (k === "text") node.textContent = v;
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }
  function append(node, kids) {
    (kids || []).forEach(function (kid) {
      if (kid != null && kid !== false) node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid);
    });
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function date(iso) { return iso ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z") : null; }
  function when(iso) {
    var d = date(iso);
    return d && !isNaN(d) ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";
  }
  function num(x) { return typeof x === "number" ? x.toFixed(2) : "?"; }
  function pct(x) { return x == null ? "n/a" : Math.round(x * 100) + "%"; }
  function safeUrl(url) { return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null; }
  function duration(seconds) {
    if (seconds == null) return "n/a";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " days";
  }
  function show(node, visible) { node.hidden = !visible; }
  function errorText(res) {
    var d = res.data || {};
    if (res.status === 0) return "Could not reach the service. Check the connection and try again.";
    var parts = [d.title || "Error " + res.status];
    if (d.detail) parts.push(d.detail);
    return parts.join(": ");
  }

  // A key goes in Authorization; a signed-in person's session rides in its cookie, and every
  // state-changing request carries the session's CSRF token.
  function api(method, path, body, headers) {
    var h = { Accept: "application/json" };
    if (state.key) h.Authorization = "Bearer " + state.key;
    else if (state.csrf && method !== "GET") h["X-CSRF-Token"] = state.csrf;
    if (body) h["Content-Type"] = "application/json";
    for (var k in headers || {}) h[k] = headers[k];
    return fetch(path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined, cache: "no-store" })
      .then(function (res) {
        return res.text().then(function (raw) {
          var data = null;
          try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
          if (res.status === 401 && state.me) {
            endSession(state.key ? "Your key is no longer accepted. Sign in again." : ((data && data.detail) || "Your session has ended.") + "");
          }
          return { status: res.status, ok: res.ok, data: data || {}, headers: res.headers };
        });
      }, function () { return { status: 0, ok: false, data: {}, headers: new Headers() }; });
  }
  function qs(params) {
    var out = [];
    for (var k in params) if (params[k] !== "" && params[k] != null) out.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
    return out.length ? "?" + out.join("&") : "";
  }

  var toastTimer = null;
  function toast(text, kind) {
    var t = $("toast");
    t.textContent = text;
    t.className = "toast" + (kind ? " toast-" + kind : "");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 6000);
  }

  // --- session ----------------------------------------------------------------------------
  function signIn(key) {
    state.key = key;
    state.csrf = null;
    return loadMe(function (res) {
      state.key = null;
      sessionStorage.removeItem(KEY_STORE);
      return res.status === 401 ? "This key is unknown or revoked." : res.status === 403 ? "This key cannot moderate: use a moderator or admin key." : errorText(res);
    }, function () { sessionStorage.setItem(KEY_STORE, key); });
  }
  // Sign in as a person: e-mail, password, and the authenticator's code when the account has one.
  function accountSignIn() {
    var body = { email: $("email-input").value.trim(), password: $("password-input").value };
    var code = $("totp-input").value.trim();
    if (code) body.totp_code = code;
    state.key = null;
    var button = $("account-form").querySelector("button[type=submit]");
    button.disabled = true;
    api("POST", "/v1/session", body).then(function (res) {
      button.disabled = false;
      if (res.status === 401 && res.data.code === "second-factor-required") {
        show($("totp-row"), true);
        $("totp-input").focus();
        return showAccountError("Enter the 6-digit code from your authenticator app.");
      }
      if (!res.ok) {
        $("password-input").value = "";
        $("totp-input").value = "";
        return showAccountError(res.status === 429 ? res.data.detail : res.status === 401 ? (res.data.detail || "The e-mail or password is wrong.") : errorText(res));
      }
      state.csrf = res.data.csrf_token;
      $("password-input").value = "";
      $("totp-input").value = "";
      loadMe(function (r) { state.csrf = null; return r.status === 403 ? "This account has no role on any site yet." : errorText(r); });
    });
  }
  function showAccountError(message) {
    var err = $("account-error");
    err.textContent = message;
    show(err, true);
  }
  // The session a reloaded page still has (its cookie), or the sign-in form.
  function resumeSession() {
    api("GET", "/v1/session").then(function (res) {
      if (!res.ok) return showSignIn();
      state.csrf = res.data.csrf_token;
      loadMe(function (r) { state.csrf = null; return errorText(r); });
    });
  }
  function loadMe(failure, success) {
    return api("GET", "/v1/moderation/me").then(function (res) {
      if (!res.ok) {
        showSignIn(failure(res));
        return;
      }
      if (success) success();
      state.me = res.data;
      var select = clear($("site-select"));
      if (state.me.all_sites) select.appendChild(el("option", { value: "", text: "All sites" }));
      state.me.sites.forEach(function (s) { select.appendChild(el("option", { value: s.slug, text: s.name + " (" + s.slug + ")" })); });
      state.site = state.me.all_sites ? "" : (state.me.sites[0] || {}).slug || "";
      select.value = state.site;
      show(select, state.me.sites.length > 1 || state.me.all_sites);
      $("role").textContent = (state.me.name && !state.key ? state.me.name + " · " : "") + (state.me.role === "admin" ? "Admin" : "Moderator");
      document.querySelectorAll("[data-admin]").forEach(function (n) { show(n, state.me.role === "admin"); });
      show($("signin-view"), false);
      show($("tabs"), true);
      show($("session"), true);
      fillReasonSelect($("bulk-reason"), null);
      route();
    });
  }
  function showSignIn(message) {
    ["queue-view", "stats-view", "policy-view", "webhooks-view", "history-view", "notices-view", "transparency-view", "article-view", "tabs", "session"].forEach(function (id) { show($(id), false); });
    show($("signin-view"), true);
    var err = $("signin-error");
    err.textContent = message || "";
    show(err, !!message);
    show($("account-error"), false);
    show($("reset-view"), false);
    $("key-input").value = "";
    $("email-input").focus();
  }
  function endSession(message) {
    sessionStorage.removeItem(KEY_STORE);
    state.key = null;
    state.csrf = null;
    state.me = null;
    showSignIn(message);
  }
  function signOut(message) {
    if (state.csrf) {
      // The server ends the session (the cookie alone would still work until it expired).
      api("DELETE", "/v1/session").then(function () { endSession(message || "You are signed out."); });
      return;
    }
    endSession(message);
  }
  // #reset=<token>: the link a reset or a new account sends; the person picks a password.
  function showReset(token) {
    ["queue-view", "stats-view", "policy-view", "webhooks-view", "history-view", "notices-view", "transparency-view", "article-view", "tabs", "session", "signin-view"].forEach(function (id) { show($(id), false); });
    show($("reset-view"), true);
    $("reset-form").setAttribute("data-token", token);
    $("new-password-input").focus();
  }
  function submitReset() {
    var password = $("new-password-input").value;
    if (password !== $("repeat-password-input").value) {
      $("reset-error").textContent = "The two passwords differ.";
      return show($("reset-error"), true);
    }
    api("POST", "/v1/password-reset", { token: $("reset-form").getAttribute("data-token"), password: password }).then(function (res) {
      if (!res.ok) {
        $("reset-error").textContent = res.data.detail || errorText(res);
        return show($("reset-error"), true);
      }
      history.replaceState(null, "", location.pathname);
      $("new-password-input").value = $("repeat-password-input").value = "";
      showSignIn();
      toast("Your password is set. Sign in with it.");
    });
  }
  function siteById(siteId) {
    var sites = (state.me && state.me.sites) || [];
    for (var i = 0; i < sites.length; i++) if (sites[i].id === siteId) return sites[i];
    return null;
  }
  function reasonsFor(siteId) {
    var site = siteId != null ? siteById(siteId) : (state.me && state.me.sites.filter(function (s) { return s.slug === state.site; })[0]);
    return (site && site.rejection_reasons && site.rejection_reasons.length) ? site.rejection_reasons : DEFAULT_REASONS;
  }
  function fillReasonSelect(select, siteId) {
    clear(select);
    reasonsFor(siteId).forEach(function (r) { select.appendChild(el("option", { value: r, text: r })); });
  }
  function statsSite() { return state.site || ((state.me && state.me.sites[0]) || {}).slug || ""; }

  // --- routing ----------------------------------------------------------------------------
  function route() {
    if (!state.me) return;
    var parts = (location.hash || "#queue").slice(1).split("/");
    var view = parts[0];
    // #comment/<id>: one comment, wherever it is (the copies a duplicate names link there).
    state.single = view === "comment" && /^\d+$/.test(parts[1] || "") ? parseInt(parts[1], 10) : null;
    if (state.single) view = "queue";
    // #article/<site>/<article id>: an article's settings.
    var article = view === "article" && parts[1] && parts[2] ? { site: decodeURIComponent(parts[1]), id: decodeURIComponent(parts.slice(2).join("/")) } : null;
    if (view === "article" && !article) view = "queue";
    var adminOnly = view === "webhooks" || view === "history";
    if (["queue", "stats", "policy", "webhooks", "history", "notices", "transparency", "article"].indexOf(view) < 0 || (adminOnly && state.me.role !== "admin")) view = "queue";
    state.view = view;
    ["queue", "stats", "policy", "webhooks", "history", "notices", "transparency", "article"].forEach(function (v) { show($(v + "-view"), v === view); });
    document.querySelectorAll("#tabs a").forEach(function (a) {
      if (a.getAttribute("data-view") === view) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    show($("single-bar"), !!state.single);
    show($("filters"), !state.single);
    show($("bulkbar"), !state.single);
    if (view === "queue") { loadCounts(); if (state.single) loadOne(state.single); else loadQueue(false); }
    if (view === "stats") loadStats();
    if (view === "policy") loadPolicy();
    if (view === "webhooks") loadEndpoints();
    if (view === "history") loadHistory(false);
    if (view === "notices") loadNotices(false);
    if (view === "transparency") loadTransparency();
    if (view === "article") loadArticle(article);
  }

  // --- queues -----------------------------------------------------------------------------
  function loadCounts() {
    return api("GET", "/v1/moderation/queues" + qs({ site: state.site })).then(function (res) {
      var list = clear($("queue-list"));
      QUEUES.forEach(function (q) {
        var count = res.ok ? res.data[q[0]] + ((res.data.over_cap || []).indexOf(q[0]) >= 0 ? "+" : "") : "–";
        var btn = el("button", { type: "button", class: "queue-btn", "data-queue": q[0], "aria-pressed": q[0] === state.queue && !state.single ? "true" : "false" }, [
          el("span", { text: q[1] }), el("span", { class: "count count-" + q[0], text: String(count) })
        ]);
        btn.addEventListener("click", function () {
          state.queue = q[0];
          if (state.single) { location.hash = "#queue"; return; }
          loadCounts(); loadQueue(false);
        });
        list.appendChild(el("li", null, [btn]));
      });
    });
  }

  // A date input's day as the instant its local midnight starts (the end: the next day's).
  function dayStart(value, next) {
    if (!value) return "";
    var d = new Date(value + "T00:00:00");
    if (isNaN(d)) return "";
    if (next) d.setDate(d.getDate() + 1);
    return d.toISOString();
  }
  function filters() {
    var label = $("f-label").value;
    return {
      queue: state.queue, site: state.site, q: $("f-q").value.trim(), sort: $("f-sort").value,
      label: label, min_score: label ? $("f-min").value : "",
      spam: $("f-spam").checked ? "true" : "",
      author: $("f-author").value.trim(), article: $("f-article").value.trim(),
      since: dayStart($("f-since").value, false), until: dayStart($("f-until").value, true),
      language: $("f-language").value
    };
  }
  function clearFilters() {
    ["f-q", "f-author", "f-article", "f-since", "f-until"].forEach(function (id) { $(id).value = ""; });
    $("f-label").value = ""; $("f-language").value = ""; $("f-spam").checked = false;
    loadQueue(false);
  }

  var queueRequest = 0;
  function loadQueue(more) {
    var params = filters();
    params.limit = 25;
    if (more) params.cursor = state.cursor;
    else { state.items = []; state.selected = {}; state.active = -1; clear($("cards")); }
    $("queue-more").disabled = true;
    // Only the newest request draws: an answer for a queue the moderator already left (a quick
    // click on another tab) would add its cards to the new queue's.
    var request = ++queueRequest;
    return api("GET", "/v1/moderation/comments" + qs(params)).then(function (res) {
      if (request !== queueRequest) return;
      $("queue-more").disabled = false;
      var ferr = $("filters-error");
      if (!res.ok) {
        // A filter the API refused (e.g. an article without a site) is named next to the filters.
        ferr.textContent = res.status === 422 ? filterProblem(res) : errorText(res);
        show(ferr, true);
        show($("queue-empty"), false);
        return;
      }
      show(ferr, false);
      res.data.items.forEach(function (item) {
        state.items.push(item);
        $("cards").appendChild(renderCard(item));
      });
      state.cursor = res.data.next_cursor;
      show($("queue-more"), !!state.cursor);
      show($("queue-empty"), state.items.length === 0);
      if (state.active < 0 && state.items.length) setActive(0, false);
      updateBulk();
    });
  }

  var FILTER_NAMES = { article: "Article", author: "Author", since: "From", until: "To", language: "Language", q: "Text", site: "Site" };
  function filterProblem(res) {
    var errors = (res.data && res.data.errors) || [];
    if (!errors.length) return errorText(res);
    return errors.map(function (e) {
      var name = FILTER_NAMES[e.field] || e.field;
      return name + ": " + (e.field === "article" && /site/.test(e.message || "") ? "choose a site first (the article id is the site's own)" : e.message);
    }).join(" · ");
  }

  function loadOne(id) {
    state.items = []; state.selected = {}; state.active = -1; clear($("cards"));
    show($("queue-more"), false);
    $("single-title").textContent = "Comment #" + id;
    return api("GET", "/v1/moderation/comments/" + id).then(function (res) {
      if (!res.ok) { show($("queue-empty"), false); toast(errorText(res), "error"); return; }
      state.items.push(res.data);
      $("cards").appendChild(renderCard(res.data));
      show($("queue-empty"), false);
      setActive(0, true);
    });
  }

  function cardOf(id) { return document.querySelector('.card[data-id="' + id + '"]'); }
  function indexOf(id) {
    for (var i = 0; i < state.items.length; i++) if (state.items[i].id === id) return i;
    return -1;
  }

  function setActive(index, focus) {
    if (!state.items.length) { state.active = -1; return; }
    index = Math.max(0, Math.min(state.items.length - 1, index));
    var old = document.querySelector(".card.active");
    if (old) old.classList.remove("active");
    state.active = index;
    var card = cardOf(state.items[index].id);
    if (!card) return;
    card.classList.add("active");
    if (focus) { card.focus({ preventScroll: true }); card.scrollIntoView({ block: "nearest", behavior: "smooth" }); }
  }

  // Text with the matched words and the model's strongest spans marked. Offsets count code
  // points (the service is written in Python), so the text is split with Array.from.
  function highlighted(item) {
    var chars = Array.from(item.text || "");
    var marks = new Array(chars.length);
    function mark(start, end, kind, label) {
      for (var i = Math.max(0, start); i < Math.min(end, chars.length); i++) {
        var m = marks[i] || (marks[i] = { word: false, link: false, labels: [] });
        if (kind === "word" || kind === "link") m.word = true;
        if (kind === "link") m.link = true;
        else if (m.labels.indexOf(label) < 0) m.labels.push(label);
      }
    }
    (item.reasons || []).forEach(function (r) {
      if (typeof r.start === "number" && typeof r.end === "number") mark(r.start, r.end, /^link_/.test(r.code || "") ? "link" : "word");
    });
    // The model's spans, only for the labels that decided (else the high-scoring ones), and only
    // the spans that carry a good share of the label's weight: stray short words add noise.
    var hl = item.highlights || {};
    var decisive = (item.reasons || []).filter(function (r) { return /^label_above_/.test(r.code); }).map(function (r) { return r.label; });
    Object.keys(hl).forEach(function (label) {
      var spans = hl[label] || [];
      if (decisive.length ? decisive.indexOf(label) < 0 : ((item.scores || {})[label] || 0) < 0.5) return;
      var top = Math.max.apply(null, spans.map(function (s) { return s.weight; }).concat([0]));
      spans.forEach(function (s) { if (s.weight >= 0.4 * top) mark(s.start, s.end, "model", label); });
    });
    var out = el("p", { class: "comment-text" });
    var run = "", runKey = null, runMark = null;
    function flush() {
      if (!run) return;
      if (!runMark) out.appendChild(document.createTextNode(run));
      else {
        var title = (runMark.word ? (runMark.link ? "link" : "matched word") : "") + (runMark.labels.length ? (runMark.word ? "; " : "") + "model: " + runMark.labels.join(", ") : "");
        out.appendChild(el("mark", { class: runMark.word ? "hl-word" : "hl-model", title: title, text: run }));
      }
      run = "";
    }
    chars.forEach(function (ch, i) {
      var m = marks[i] || null;
      var key = m ? (m.word ? "w" : "") + m.labels.join(",") : "";
      if (key !== runKey) { flush(); runKey = key; runMark = m; }
      run += ch;
    });
    flush();
    return out;
  }

  function reasonText(r) {
    switch (r.code) {
      case "label_above_hold": return "Model: " + r.label + " " + num(r.score) + " ≥ hold threshold " + num(r.threshold);
      case "label_above_reject": return "Model: " + r.label + " " + num(r.score) + " ≥ reject threshold " + num(r.threshold);
      case "suspect_word": return "Suspect word “" + r.word + "”" + (r.matched ? " matched “" + r.matched + "”" : "");
      case "banned_word": return "Banned word “" + r.word + "”" + (r.matched ? " matched “" + r.matched + "”" : "");
      case "premoderation": return "Pre-moderation (" + (r.scope || "site") + ")";
      case "author_banned": return "The author is banned";
      case "author_suspended": return "The author is suspended";
      case "scoring_pending": return "Not scored yet: the model did not answer in time";
      case "reported": return "Reported by readers: " + r.count + " open report" + (r.count === 1 ? "" : "s") + " weighing " + num(r.score) + " (threshold " + r.threshold + ")";
      case "anonymous_author": return "Anonymous reader: this site holds comments from readers who are not signed in";
      case "link_from_new_reader": return "Link to " + r.domain + " from an anonymous or new reader";
      case "link_shortener": return "Link through the URL shortener " + r.domain + ": where it leads is unknown";
      case "link_blocked_domain": return "Link to " + r.domain + ", a blocked domain" + (r.word && r.word !== r.domain ? " (blocked: " + r.word + ")" : "");
      case "duplicate": return "Duplicate: the same text was posted " + r.count + " more time" + (r.count === 1 ? "" : "s") + ({ articles: " under other articles", authors: " by other readers" }[r.scope] || "") + " recently";
      case "velocity": return "Posting too fast: " + r.count + " comments in the last " + r.window + " (limit " + r.limit + ")";
      case "bot_honeypot": return "Possible bot: the hidden field people never see was filled in";
      case "bot_too_fast": return "Possible bot: posted " + seconds(r.seconds) + " after the form was shown (minimum " + seconds(r.limit) + ")";
      case "bot_token_invalid": return "Possible bot: " + (TOKEN_SCOPES[r.scope] || "the render token is not valid");
      case "bot_token_expired": return "Possible bot: the form was shown " + duration(r.seconds) + " before posting (longer than " + duration(r.limit) + ")";
      default: return r.code || "unknown reason";
    }
  }
  var TOKEN_SCOPES = {
    missing: "posted without the embed's render token (not from the comment form)",
    forged: "the render token was not signed by this service",
    site: "the render token belongs to another site",
    article: "the render token was given for another article",
    future: "the render token is dated in the future"
  };
  function seconds(x) { return typeof x === "number" ? (Math.round(x * 10) / 10) + " s" : "?"; }

  function reasonItem(r) {
    var node = el("li", { class: "reason reason-" + (r.code || ""), text: reasonText(r) });
    if (r.code === "duplicate" && (r.copies || []).length) {
      node.appendChild(document.createTextNode(". Copies: "));
      r.copies.forEach(function (id, i) {
        if (typeof id !== "number") return;
        if (i) node.appendChild(document.createTextNode(", "));
        node.appendChild(el("a", { href: "#comment/" + id, class: "copy-link", text: "#" + id, "aria-label": "Open comment #" + id }));
      });
    }
    return node;
  }

  function identityBadge(verified, yes, no, why) {
    return el("span", { class: "id-badge " + (verified ? "id-verified" : "id-unverified"), title: verified ? yes[1] : why },
      [verified ? yes[0] : no, verified ? null : el("span", { class: "visually-hidden", text: ": " + why })]);
  }

  function scoreBars(scores) {
    var labels = Object.keys(scores || {}).sort(function (a, b) { return scores[b] - scores[a]; });
    if (!labels.length) return el("p", { class: "muted small", text: "No scores yet." });
    var list = el("dl", { class: "scores" });
    labels.forEach(function (label) {
      var value = scores[label];
      var fill = el("span", { class: "bar-fill" + (value >= 0.5 ? " bar-high" : value >= 0.3 ? " bar-mid" : "") });
      fill.style.width = Math.max(1, Math.round(value * 100)) + "%";
      list.appendChild(el("dt", { text: label.replace(/_/g, " ") }));
      list.appendChild(el("dd", null, [
        el("span", { class: "bar", role: "img", "aria-label": label + " " + value.toFixed(2) }, [fill]),
        el("span", { class: "bar-value", text: value.toFixed(2) })
      ]));
    });
    return list;
  }

  function renderCard(item) {
    var selected = !!state.selected[item.id];
    var check = el("input", { type: "checkbox", class: "select-box", "aria-label": "Select comment " + item.id });
    check.checked = selected;
    check.addEventListener("change", function () { toggleSelect(item.id, check.checked); });
    var url = safeUrl(item.article && item.article.url);
    var title = (item.article && (item.article.title || item.article.id)) || "";
    var articleNode = url ? el("a", { class: "article", href: url, target: "_blank", rel: "noopener noreferrer", text: title }) : el("span", { class: "article", text: title });

    var author = item.author || {};
    var history = author.history;
    var authorLine = el("div", { class: "author" }, [
      el("button", { type: "button", class: "author-name author-open", "aria-haspopup": "dialog", title: "The author's history and standing (u)", text: author.name || "(no name)", onclick: function (ev) { openAuthor(item, ev.currentTarget); } }),
      identityBadge(author.verified, ["verified reader", "Signed in: the site vouched for this reader"], "unverified", "name, e-mail and user id are the reader's own claims"),
      author.email ? el("span", { class: "muted", text: author.email }) : null,
      history ? el("span", { class: "history" }, [
        el("span", { class: "pill pill-approved", text: history.approved + " approved" }),
        el("span", { class: "pill pill-rejected", text: history.rejected + " rejected" }),
        el("span", { class: "pill pill-held", text: history.held + " held" })
      ]) : el("span", { class: "muted small", text: "no history" })
    ]);

    var parent = item.parent ? el("div", { class: "parent" }, [
      el("span", { class: "parent-label", text: "In reply to " + ((item.parent.author || {}).name || "") + (item.parent.status !== "approved" ? " (" + item.parent.status + ")" : "") }),
      el("p", { class: "parent-text", text: (item.parent.text || "").length > 400 ? item.parent.text.slice(0, 400) + "…" : item.parent.text })
    ]) : null;

    var reasons = (item.reasons || []).length ? el("ul", { class: "reasons", "aria-label": "Why it is here" },
      item.reasons.map(reasonItem)) : null;

    var reports = (item.reports || []).length ? reportsBox(item) : null;
    // The texts the author replaced (edits within the site's window), oldest first.
    var edits = (item.edits || []).length ? el("details", { class: "edits" }, [
      el("summary", { text: "Edited by the author " + (item.edits.length === 1 ? "once" : item.edits.length + " times") + " · earlier versions" }),
      el("ol", null, item.edits.map(function (e) {
        return el("li", null, [el("span", { class: "muted small", text: e.status + " until " + when(e.replaced_at) }), el("p", { class: "parent-text", text: e.text })]);
      }))
    ]) : null;

    var reason = el("select", { class: "reject-reason", "aria-label": "Rejection reason for comment " + item.id });
    fillReasonSelect(reason, item.site_id);
    var message = el("p", { class: "card-message", role: "status", "aria-live": "polite", hidden: true });
    var history_ = el("div", { class: "trail", hidden: true });
    var historyBtn = el("button", { type: "button", class: "btn btn-quiet", "aria-expanded": "false", text: "Audit trail" });
    historyBtn.addEventListener("click", function () { toggleTrail(item, history_, historyBtn); });
    var notesBox = el("div", { class: "notes-box", id: "notes-" + item.id, hidden: true });
    var notesBtn = el("button", { type: "button", class: "btn btn-quiet notes-btn", "aria-expanded": "false", "aria-controls": "notes-" + item.id, text: "Notes", title: "Moderators' notes (n)" });
    notesBtn.addEventListener("click", function () { toggleNotes(item, notesBox, notesBtn, false); });
    var articleSite = (siteById(item.site_id) || {}).slug;
    var articleLink = articleSite && item.article && item.article.id ? el("a", { class: "btn btn-quiet", href: "#article/" + encodeURIComponent(articleSite) + "/" + encodeURIComponent(item.article.id), text: "Article settings", "aria-label": "Article settings: " + title }) : null;

    var card = el("article", { class: "card status-" + item.status + (selected ? " selected" : ""), "data-id": item.id, tabindex: "-1", "aria-label": "Comment " + item.id + " by " + (author.name || "") }, [
      el("header", { class: "card-head" }, [
        check,
        el("span", { class: "badge badge-" + item.status, text: item.status }),
        item.spam ? el("span", { class: "badge badge-spam", text: "spam" }) : null,
        articleNode,
        identityBadge((item.article || {}).verified, ["site's article", "Title and URL set by the site"], "unverified article", "title and URL from a reader's first comment"),
        el("span", { class: "muted small meta", text: "#" + item.id + " · v" + item.version + " · " + when(item.created_at) })
      ]),
      parent,
      el("div", { class: "card-body" }, [
        el("div", { class: "card-main" }, [authorLine, highlighted(item), edits, reasons, reports]),
        el("div", { class: "card-side" }, [
          el("h3", { text: "Scores" }), scoreBars(item.scores),
          item.model ? el("p", { class: "muted small", text: item.model.name + " " + item.model.version }) : null
        ])
      ]),
      el("footer", { class: "card-actions" }, [
        el("button", { type: "button", class: "btn btn-approve", text: "Approve", title: "Approve (a)", onclick: function () { decide(item.id, "approved"); } }),
        reason,
        el("button", { type: "button", class: "btn btn-reject", text: "Reject", title: "Reject (r)", onclick: function () { decide(item.id, "rejected"); } }),
        el("button", { type: "button", class: "btn", text: "Hold", title: "Hold (h)", onclick: function () { decide(item.id, "held"); } }),
        spamAllowed(item.site_id) ? el("button", { type: "button", class: "btn btn-spam", text: "Mark as spam", title: "Reject as spam (s)", onclick: function () { decide(item.id, "rejected", "spam"); } }) : null,
        openReports(item) ? el("button", { type: "button", class: "btn btn-dismiss", text: "Dismiss reports", onclick: function () { dismissReports(item.id); } }) : null,
        el("span", { class: "spacer" }),
        articleLink,
        notesBtn,
        historyBtn
      ]),
      message,
      notesBox,
      history_
    ]);
    card.addEventListener("click", function (ev) {
      if (ev.target.closest("button, a, input, select")) return;
      setActive(indexOf(item.id), false);
    });
    card.addEventListener("focusin", function () {
      var i = indexOf(item.id);
      if (i !== state.active) setActive(i, false);
    });
    return card;
  }

  function openReports(item) { return (item.reports || []).some(function (r) { return r.open; }); }
  function spamAllowed(siteId) { return reasonsFor(siteId).indexOf("spam") >= 0; }

  var OUTCOMES = { upheld: "upheld", dismissed: "dismissed" };
  function reportsBox(item) {
    var open = item.reports.filter(function (r) { return r.open; });
    var reported = (item.reasons || []).filter(function (r) { return r.code === "reported"; }).pop();
    // The threshold is known from the reason the reports gave when they held the comment; an
    // approved comment with open reports is below it, whatever it is.
    var threshold = reported && reported.threshold != null ? reported.threshold : null;
    var total = "Open reports weigh " + num(item.report_weight);
    if (threshold != null) total += " against the site's threshold of " + threshold;
    else if (item.status === "approved") total += ", below the site's threshold";
    if (item.status === "approved") total += ": still published";
    else if (threshold != null && item.report_weight >= threshold) total += ": held for review";
    if (!open.length) total = "No open reports";
    return el("div", { class: "reports" }, [
      el("h3", { text: "Reports (" + item.report_count + ")" }),
      el("p", { class: "report-total", text: total }),
      el("ul", null, item.reports.map(function (r) {
        return el("li", { class: "report " + (r.open ? "open" : "resolved") }, [
          el("span", { class: "pill", text: r.reason }),
          el("span", { class: "pill reporter-" + r.reporter, text: r.reporter === "verified" ? "signed-in reader" : "anonymous network" }),
          el("span", { class: "report-weight", text: "weight " + num(r.weight) }),
          r.flood ? el("span", { class: "pill pill-flood", title: "Sent past the network's hourly report limit: it counts for nothing", text: "flood" }) : null,
          r.note ? el("span", { class: "report-note", text: " “" + r.note + "”" }) : null,
          el("span", { class: "muted small", text: " · " + when(r.created_at) + (r.open ? " · open" : " · " + (OUTCOMES[r.outcome] || "resolved")) })
        ]);
      }))
    ]);
  }

  function dismissReports(id) {
    var card = cardOf(id);
    card.classList.add("busy");
    return api("POST", "/v1/moderation/comments/" + id + "/reports/dismiss", { note: "" }).then(function (res) {
      card.classList.remove("busy");
      if (res.ok) {
        toast("Dismissed the reports on comment #" + id + (res.data.status === "approved" ? "; it is published." : "."), "ok");
        if (state.single || (state.queue !== "reported" && stillQueued(res.data.status))) replaceCard(res.data, "Reports dismissed.", "ok");
        else removeCard(id);
        loadCounts();
        return;
      }
      cardMessage(card, res.status === 409 ? "This comment has no open reports any more." : errorText(res), "warn");
    });
  }

  function replaceCard(item, note, kind) {
    var i = indexOf(item.id);
    if (i < 0) return;
    state.items[i] = item;
    var old = cardOf(item.id);
    var fresh = renderCard(item);
    if (i === state.active) fresh.classList.add("active");
    if (note) cardMessage(fresh, note, kind);
    old.parentNode.replaceChild(fresh, old);
    if (i === state.active) fresh.focus({ preventScroll: true });
  }
  function cardMessage(card, text, kind) {
    var m = card.querySelector(".card-message");
    m.textContent = text;
    m.className = "card-message" + (kind ? " msg-" + kind : "");
    m.hidden = false;
  }
  function removeCard(id) {
    var i = indexOf(id);
    if (i < 0) return;
    var card = cardOf(id);
    if (card) card.remove();
    var wasActive = i === state.active;
    state.items.splice(i, 1);
    delete state.selected[id];
    if (i < state.active) state.active -= 1;
    else if (wasActive) {
      state.active = -1;
      if (state.items.length) setActive(Math.min(i, state.items.length - 1), true);
    }
    show($("queue-empty"), state.items.length === 0);
    updateBulk();
  }
  // Whether a comment, after a decision, still belongs in the queue being shown.
  function stillQueued(status) {
    if (state.single) return true; // a comment opened by itself stays on screen
    return state.queue !== "reported" && status === state.queue;
  }

  function conflictNote(current) {
    if (!current) return "Another moderator changed this comment first.";
    return "Another moderator decided first: this comment is now " + current.status + " (version " + current.version + "). Its card shows the current state.";
  }

  function decide(id, status, reason) {
    var i = indexOf(id);
    if (i < 0) return;
    var item = state.items[i];
    var card = cardOf(id);
    var body = { status: status };
    if (status === "rejected") body.reason = reason || card.querySelector(".reject-reason").value;
    card.classList.add("busy");
    return api("POST", "/v1/moderation/comments/" + id + "/decision", body, { "If-Match": '"' + item.version + '"' }).then(function (res) {
      card.classList.remove("busy");
      if (res.ok) {
        var verb = reason === "spam" ? "Marked as spam" : VERBS[status];
        toast(verb + " comment #" + id + ".", "ok");
        if (stillQueued(res.data.status)) replaceCard(res.data, verb + ".", "ok");
        else removeCard(id);
        loadCounts();
        return;
      }
      if (res.status === 409 && res.data.code === "version-conflict") {
        var note = conflictNote(res.data.current);
        toast(note, "warn");
        return api("GET", "/v1/moderation/comments/" + id).then(function (again) {
          if (again.ok) replaceCard(again.data, note, "warn");
          else cardMessage(card, note, "warn");
          loadCounts();
        });
      }
      cardMessage(card, errorText(res), "error");
    });
  }

  function toggleTrail(item, box, button) {
    if (!box.hidden) { box.hidden = true; button.setAttribute("aria-expanded", "false"); return; }
    box.hidden = false;
    button.setAttribute("aria-expanded", "true");
    clear(box).appendChild(el("p", { class: "muted small", text: "Loading the audit trail…" }));
    api("GET", "/v1/moderation/comments/" + item.id + "/events").then(function (res) {
      clear(box);
      if (!res.ok) { box.appendChild(el("p", { class: "error", text: errorText(res) })); return; }
      box.appendChild(el("h3", { text: "Audit trail" }));
      box.appendChild(el("ol", { class: "events" }, res.data.items.map(function (ev) {
        return el("li", null, [
          el("span", { class: "muted small", text: when(ev.created_at) }), " ",
          el("strong", { text: ev.actor === "system" ? "system" : ev.actor }), " ",
          el("span", { text: (ev.from_status || "new") + " → " + ev.to_status }),
          ev.reason ? el("span", { class: "muted", text: " · " + ev.reason }) : null,
          ev.note ? el("span", { class: "muted", text: " · “" + ev.note + "”" }) : null,
          ev.model_name ? el("span", { class: "muted small", text: " · " + ev.model_name + " " + (ev.model_version || "") }) : null
        ]);
      })));
    });
  }

  // --- selection and bulk decisions ------------------------------------------------------
  function toggleSelect(id, on) {
    if (on) state.selected[id] = true; else delete state.selected[id];
    var card = cardOf(id);
    if (card) {
      card.classList.toggle("selected", !!on);
      card.querySelector(".select-box").checked = !!on;
    }
    updateBulk();
  }
  function selectedIds() { return state.items.filter(function (it) { return state.selected[it.id]; }).map(function (it) { return it.id; }); }
  function updateBulk() {
    var n = selectedIds().length;
    $("selected-count").textContent = n ? n + " selected" : "Select all";
    $("select-all").checked = n > 0 && n === state.items.length;
    $("select-all").indeterminate = n > 0 && n < state.items.length;
    ["bulk-approve", "bulk-reject", "bulk-hold", "bulk-reason"].forEach(function (b) { $(b).disabled = n === 0; });
  }
  function bulk(status) {
    var ids = selectedIds();
    if (!ids.length) return;
    var reason = $("bulk-reason").value;
    var decisions = ids.map(function (id) {
      var d = { id: id, status: status, version: state.items[indexOf(id)].version };
      if (status === "rejected") d.reason = reason;
      return d;
    });
    api("POST", "/v1/moderation/decisions", { decisions: decisions }).then(function (res) {
      if (!res.ok) { toast(errorText(res), "error"); return; }
      var ok = 0, failed = 0;
      res.data.results.forEach(function (r) {
        if (r.ok) {
          ok += 1;
          if (stillQueued(r.status)) {
            var item = state.items[indexOf(r.id)];
            item.status = r.status; item.version = r.version;
            delete state.selected[r.id];
            replaceCard(item, VERBS[status] + ".", "ok");
          } else removeCard(r.id);
        } else {
          failed += 1;
          var card = cardOf(r.id);
          var err = r.error || {};
          if (card) cardMessage(card, err.code === "version-conflict" ? conflictNote(err.current) : (err.detail || "Not decided."), "warn");
        }
      });
      toast(VERBS[status] + " " + ok + " comment" + (ok === 1 ? "" : "s") + (failed ? "; " + failed + " could not be decided (see the cards)." : "."), failed ? "warn" : "ok");
      updateBulk();
      loadCounts();
    });
  }

  // --- keyboard --------------------------------------------------------------------------
  document.addEventListener("keydown", function (ev) {
    if (!state.me || state.view !== "queue" || document.querySelector("dialog[open]") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var item = state.items[state.active];
    switch (ev.key) {
      case "j": setActive(state.active + 1, true); break;
      case "k": setActive(state.active - 1, true); break;
      case "a": if (item) decide(item.id, "approved"); break;
      case "r": if (item) decide(item.id, "rejected"); break;
      case "h": if (item) decide(item.id, "held"); break;
      case "s": if (item && spamAllowed(item.site_id)) decide(item.id, "rejected", "spam"); break;
      case "x": if (item) toggleSelect(item.id, !state.selected[item.id]); break;
      case "u": if (item) openAuthor(item, cardOf(item.id).querySelector(".author-open")); break;
      case "n": if (item) { var c = cardOf(item.id); toggleNotes(item, c.querySelector(".notes-box"), c.querySelector(".notes-btn"), true); } break;
      default: return;
    }
    ev.preventDefault();
  });

  // --- statistics ------------------------------------------------------------------------
  function loadStats() {
    var site = statsSite();
    var err = $("stats-error");
    if (!site) { err.textContent = "Choose a site to see its statistics."; show(err, true); return; }
    api("GET", "/v1/moderation/stats" + qs({ site: site, days: $("stats-days").value })).then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      var s = res.data;
      var tiles = clear($("stats-tiles"));
      [["Held now", s.queues.held], ["Reported now", s.queues.reported], ["Reviewed by moderators", s.reviewed], ["Median time in queue", duration(s.median_seconds_in_queue)]]
        .forEach(function (t) { tiles.appendChild(el("div", { class: "tile panel" }, [el("span", { class: "tile-value", text: String(t[1]) }), el("span", { class: "tile-label", text: t[0] })])); });
      drawDays(clear($("chart-days")), s.decisions_per_day, s.days);
      drawQueues(clear($("chart-queues")), s.queues);
      drawAgreement(clear($("chart-agreement")), s.agreement);
    });
  }

  var SERIES = [
    ["auto-approved", "Published automatically", function (d) { return (d.automatic || {}).approved || 0; }],
    ["auto-held", "Held by the policy", function (d) { return ((d.automatic || {}).held || 0) + ((d.automatic || {}).pending || 0); }],
    ["auto-rejected", "Rejected by the policy", function (d) { return (d.automatic || {}).rejected || 0; }],
    ["mod-approved", "Approved by moderators", function (d) { return (d.moderators || {}).approved || 0; }],
    ["mod-rejected", "Rejected by moderators", function (d) { return (d.moderators || {}).rejected || 0; }]
  ];

  function legend(series) {
    return el("ul", { class: "legend" }, series.map(function (s) { return el("li", null, [el("span", { class: "swatch sw-" + s[0] }), s[1]]); }));
  }

  function drawDays(box, rows, days) {
    var byDate = {};
    rows.forEach(function (r) { byDate[r.date] = r; });
    var dates = [];
    var n = Math.min(days, 90);
    for (var i = n - 1; i >= 0; i--) dates.push(new Date(Date.now() - i * 86400000).toISOString().slice(0, 10));
    var totals = dates.map(function (d) { var r = byDate[d] || {}; return SERIES.reduce(function (sum, s) { return sum + s[2](r); }, 0); });
    var max = Math.max(1, Math.max.apply(null, totals));
    var W = 760, H = 240, L = 36, B = 26, T = 10, plotH = H - B - T, step = (W - L - 8) / dates.length, bw = Math.max(2, step * 0.7);
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "svg-chart", role: "img", "aria-label": "Decisions per day, last " + n + " days" });
    niceTicks(max).forEach(function (v) {
      var y = T + plotH - (v / max) * plotH;
      chart.appendChild(svg("line", { x1: L, x2: W - 4, y1: y, y2: y, class: "grid" }));
      chart.appendChild(svg("text", { x: L - 6, y: y + 4, class: "axis", "text-anchor": "end", text: String(v) }));
    });
    dates.forEach(function (d, i) {
      var r = byDate[d] || {};
      var x = L + i * step + (step - bw) / 2, y = T + plotH;
      SERIES.forEach(function (s) {
        var v = s[2](r);
        if (!v) return;
        var h = (v / max) * plotH;
        y -= h;
        chart.appendChild(svg("rect", { x: x, y: y, width: bw, height: h, class: "s-" + s[0] }, [svg("title", { text: d + ": " + s[1] + " " + v })]));
      });
      var every = Math.ceil(dates.length / 10);
      if (i % every === 0 || i === dates.length - 1) chart.appendChild(svg("text", { x: x + bw / 2, y: H - 8, class: "axis", "text-anchor": "middle", text: d.slice(5) }));
    });
    box.appendChild(chart);
    box.appendChild(legend(SERIES));
  }

  function niceTicks(max) {
    var step = Math.max(1, Math.pow(10, Math.floor(Math.log10(max))));
    if (max / step < 3) step = Math.max(1, step / 2);
    var out = [];
    for (var v = 0; v <= max; v += step) out.push(Math.round(v));
    return out;
  }

  function hbars(box, rows, max, format, label) {
    var W = 440, rowH = 28, L = 118, H = rows.length * rowH + 6;
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "svg-chart", role: "img", "aria-label": label });
    rows.forEach(function (r, i) {
      var y = i * rowH + 4;
      chart.appendChild(svg("text", { x: L - 8, y: y + 14, class: "axis", "text-anchor": "end", text: r.label }));
      chart.appendChild(svg("rect", { x: L, y: y + 3, width: W - L - 60, height: 14, class: "track", rx: 3 }));
      var w = r.value == null ? 0 : (r.value / (max || 1)) * (W - L - 60);
      chart.appendChild(svg("rect", { x: L, y: y + 3, width: Math.max(0, w), height: 14, rx: 3, class: r.cls }, [svg("title", { text: r.label + ": " + format(r.value) })]));
      chart.appendChild(svg("text", { x: W - 52, y: y + 14, class: "axis value", text: format(r.value) }));
    });
    box.appendChild(chart);
  }

  function drawQueues(box, queues) {
    var rows = QUEUES.map(function (q) { return { label: q[1], value: queues[q[0]] || 0, cls: "q-" + q[0] }; });
    hbars(box, rows, Math.max.apply(null, rows.map(function (r) { return r.value; })), String, "Queue sizes");
  }

  function drawAgreement(box, agreement) {
    var labels = Object.keys(agreement);
    var W = 440, rowH = 34, L = 118, R = 96, barW = W - L - R, H = labels.length * rowH + 4;
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "svg-chart", role: "img", "aria-label": "Model–moderator agreement per label" });
    labels.forEach(function (label, i) {
      var a = agreement[label], y = i * rowH + 4;
      chart.appendChild(svg("text", { x: L - 8, y: y + 17, class: "axis", "text-anchor": "end", text: label.replace(/_/g, " ") }));
      [["precision", a.precision, 4], ["recall", a.recall, 15]].forEach(function (m) {
        chart.appendChild(svg("rect", { x: L, y: y + m[2], width: barW, height: 9, rx: 2, class: "track" }));
        chart.appendChild(svg("rect", { x: L, y: y + m[2], width: (m[1] || 0) * barW, height: 9, rx: 2, class: "s-" + m[0] }, [svg("title", { text: label + " " + m[0] + ": " + pct(m[1]) })]));
      });
      chart.appendChild(svg("text", { x: L + barW + 8, y: y + 17, class: "axis value", text: pct(a.precision) + " / " + pct(a.recall) }));
    });
    box.appendChild(chart);
    box.appendChild(legend([["precision", "Precision"], ["recall", "Recall"]]));
    box.appendChild(el("p", { class: "muted small", text: "Precision: of the comments the model held for a label, the share moderators rejected. Recall: of the comments moderators rejected, the share the model had held for it." }));
  }

  // --- policy ----------------------------------------------------------------------------
  // The effective policy as the service applies it: every key, defaults filled in.
  var POLICY_GROUPS = [
    ["Queue and trust", ["premoderation", "trusted_skip_premoderation", "trust_after_approved", "trust_clean_days", "banned_author_status", "anonymous_posting", "unsupported_language"]],
    ["Reports", ["report_threshold", "report_flood_per_hour", "rejection_reasons"]],
    ["Spam", ["new_reader_approved", "allowed_domains", "blocked_domains", "duplicate_window_minutes", "velocity_per_minute", "velocity_per_hour", "velocity_action", "bot_checks", "bot_min_seconds"]]
  ];
  function policyValue(v) {
    if (v === true) return "yes";
    if (v === false) return "no";
    if (v == null) return "never";
    if (Array.isArray(v)) return v.length ? v.join(", ") : "none";
    return String(v);
  }
  function loadPolicy() {
    var site = statsSite();
    var err = $("policy-error");
    var box = clear($("policy-body"));
    show($("policy-editor"), false);
    if (!site) { err.textContent = "Choose a site to see its policy."; show(err, true); return; }
    api("GET", "/v1/admin/sites/" + encodeURIComponent(site) + "/policy").then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      var p = res.data;
      $("policy-title").textContent = "Policy of " + site;
      // The console's label order (toxicity first), then any label it does not know.
      var labels = LABELS.filter(function (l) { return l in p.thresholds; })
        .concat(Object.keys(p.thresholds).filter(function (l) { return LABELS.indexOf(l) < 0; }));
      var rows = labels.map(function (label) {
        var t = p.thresholds[label];
        return el("tr", null, [el("th", { scope: "row", text: label.replace(/_/g, " ") }),
          el("td", { class: "num", text: t.hold == null ? "never" : num(t.hold) }),
          el("td", { class: "num", text: t.reject == null ? "never (a person decides)" : num(t.reject) })]);
      });
      box.appendChild(el("section", { class: "panel policy-part" }, [
        el("h2", { text: "Model thresholds" }),
        el("p", { class: "muted small", text: "A comment whose score for a label is at or above hold waits for a moderator; at or above reject it is rejected." }),
        el("table", { class: "table", id: "policy-thresholds" }, [
          el("thead", null, [el("tr", null, [el("th", { text: "Label" }), el("th", { text: "Hold at" }), el("th", { text: "Reject at" })])]),
          el("tbody", null, rows)
        ])
      ]));
      box.appendChild(el("section", { class: "panel policy-part" }, [
        el("h2", { text: "Word lists" }),
        el("dl", { class: "policy-list" }, [
          el("dt", { text: "Built-in English lists" }), el("dd", { text: p.builtin_word_lists ? "on (slurs reject; the strongest abuse and threats hold)" : "off" }),
          el("dt", { text: "Banned words (reject)" }), el("dd", { class: "mono", text: policyValue(p.banned_words) }),
          el("dt", { text: "Suspect words (hold)" }), el("dd", { class: "mono", text: policyValue(p.suspect_words) })
        ])
      ]));
      POLICY_GROUPS.forEach(function (group) {
        var items = [];
        group[1].forEach(function (key) {
          if (!(key in p)) return;
          items.push(el("dt", { text: key.replace(/_/g, " ") }), el("dd", { text: policyValue(p[key]) }));
        });
        box.appendChild(el("section", { class: "panel policy-part" }, [el("h2", { text: group[0] }), el("dl", { class: "policy-list" }, items)]));
      });
      policyState.site = site;
      fillPolicyEditor(p, labels);
    });
  }

  // --- webhooks (admins) -----------------------------------------------------------------
  var deliveryState = { endpoint: null, cursor: null };
  function loadEndpoints() {
    var site = statsSite();
    var err = $("webhooks-error");
    show($("deliveries"), false);
    api("GET", "/v1/admin/sites/" + encodeURIComponent(site) + "/webhooks").then(function (res) {
      var table = clear($("endpoints-table"));
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      table.appendChild(el("thead", null, [el("tr", null, ["URL", "Events", "State", "Created", ""].map(function (h) { return el("th", { text: h }); }))]));
      var body = el("tbody");
      if (!res.data.length) body.appendChild(el("tr", null, [el("td", { colspan: "5", class: "muted", text: "No webhook endpoints for this site." })]));
      res.data.forEach(function (ep) {
        body.appendChild(el("tr", null, [
          el("td", { class: "mono", text: ep.url }),
          el("td", { text: ep.event_types.join(", ") }),
          el("td", null, [el("span", { class: "badge " + (ep.enabled ? "badge-approved" : "badge-rejected"), text: ep.enabled ? "enabled" : "disabled" }),
            ep.disabled_reason ? el("span", { class: "muted small", text: " " + ep.disabled_reason }) : null,
            ep.failing_since ? el("span", { class: "muted small", text: " failing since " + when(ep.failing_since) }) : null]),
          el("td", { text: when(ep.created_at) }),
          el("td", null, [el("button", { type: "button", class: "btn btn-quiet", text: "Deliveries", onclick: function () { deliveryState = { endpoint: ep, cursor: null }; loadDeliveries(false); } })])
        ]));
      });
      table.appendChild(body);
    });
  }

  // --- settings history -----------------------------------------------------------------
  var historyCursor = null;
  function shortJson(value) {
    var text = JSON.stringify(value === undefined ? null : value);
    return text.length > 300 ? text.slice(0, 300) + "…" : text;
  }
  function changeList(before, after) {
    var keys = Object.keys(before || {}).concat(Object.keys(after || {})).filter(function (k, i, all) { return all.indexOf(k) === i; });
    if (!before && !after) return el("span", { class: "muted", text: "–" });
    return el("ul", { class: "changes" }, keys.map(function (k) {
      return el("li", null, [
        el("strong", { text: k + ": " }),
        el("span", { class: "mono", text: before ? shortJson(before[k]) : "(new)" }),
        el("span", { text: " → " }),
        el("span", { class: "mono", text: after ? shortJson(after[k]) : "(deleted)" })
      ]);
    }));
  }
  function loadHistory(more) {
    var table = $("history-table");
    var err = $("history-error");
    var params = { site: statsSite(), limit: 50, cursor: more ? historyCursor : "" };
    api("GET", "/v1/moderation/settings-events" + qs(params)).then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      if (!more) {
        clear(table).appendChild(el("thead", null, [el("tr", null, ["When", "Who", "What", "Subject", "Before → after"].map(function (h) { return el("th", { text: h }); }))]));
        table.appendChild(el("tbody"));
      }
      var body = table.querySelector("tbody");
      if (!more && !res.data.items.length) body.appendChild(el("tr", null, [el("td", { colspan: "5", class: "muted", text: "No changes recorded for this site." })]));
      res.data.items.forEach(function (e) {
        body.appendChild(el("tr", null, [
          el("td", { text: when(e.created_at) }), el("td", { class: "mono", text: e.actor }),
          el("td", { class: "mono", text: e.kind }), el("td", { class: "mono", text: e.subject }),
          el("td", null, [changeList(e.before, e.after)])
        ]));
      });
      historyCursor = res.data.next_cursor;
      show($("history-more"), historyCursor != null);
    });
  }

  // --- DSA notices ------------------------------------------------------------------------
  var noticesAfter = null;
  function noticeForm(n) {
    var siteId = n.site_id;
    var decision = el("select", { "aria-label": "Decision" }, [
      el("option", { value: "illegal", text: "Illegal: reject the comment" }),
      el("option", { value: "site_rules", text: "Breaks the site's rules" }),
      el("option", { value: "not_illegal", text: "Not illegal" })
    ]);
    var restrict = el("input", { type: "checkbox", "aria-label": "Also reject the comment" });
    var reason = el("select", { "aria-label": "Rejection reason" });
    reasonsFor(siteId).forEach(function (r) { reason.appendChild(el("option", { value: r, text: r })); });
    var ground = el("input", { type: "text", maxlength: "500", placeholder: "Law relied on (required for illegal)", "aria-label": "Legal ground" });
    var explanation = el("textarea", { rows: "2", maxlength: "2000", placeholder: "What the reporter and the author are told", "aria-label": "Explanation" });
    var error = el("p", { class: "error", role: "alert", hidden: "hidden" });
    var button = el("button", { type: "button", class: "btn btn-primary", text: "Decide" });
    button.onclick = function () {
      var body = { decision: decision.value, explanation: explanation.value };
      if (decision.value === "illegal") body.legal_ground = ground.value;
      else if (restrict.checked) { body.restrict = true; body.reason = reason.value; }
      button.disabled = true;
      api("POST", "/v1/moderation/notices/" + n.id + "/decision", body).then(function (res) {
        button.disabled = false;
        if (!res.ok) { error.textContent = errorText(res); show(error, true); return; }
        toast("Notice " + n.id + " decided: " + res.data.decision + (res.data.restricted ? " (comment rejected)" : ""));
        loadNotices(false);
      });
    };
    return el("div", { class: "notice-form" }, [
      decision, el("label", null, [restrict, el("span", { text: " also reject, for " })]), reason, ground, explanation, button, error
    ]);
  }
  function loadNotices(more) {
    var list = $("notices-list");
    var err = $("notices-error");
    var params = { site: statsSite(), limit: 50, after: more ? noticesAfter : "" };
    api("GET", "/v1/moderation/notices" + qs(params)).then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      if (!more) clear(list);
      var notices = res.data.notices;
      if (!more && !notices.length) list.appendChild(el("p", { class: "muted", text: "No open notices for this site." }));
      notices.forEach(function (n) {
        list.appendChild(el("article", { class: "panel notice" }, [
          el("h2", { text: "Notice " + n.id + ": " + n.category_label }),
          el("p", { class: "muted small", text: "Received " + when(n.created_at) + " from " + n.reporter.name + " <" + n.reporter.email + ">" }),
          el("p", { text: n.explanation }),
          el("blockquote", { class: "comment-text" }, [
            el("strong", { text: n.comment.author.name + " (comment " + n.comment.id + ", " + n.comment.status + "): " }),
            el("span", { text: n.comment.text })
          ]),
          noticeForm(n)
        ]));
      });
      noticesAfter = notices.length ? notices[notices.length - 1].id : null;
      show($("notices-more"), notices.length === params.limit);
    });
  }

  // --- DSA transparency report ------------------------------------------------------------
  function countBars(title, counts, labels) {
    var keys = Object.keys(counts || {});
    var most = Math.max.apply(null, keys.map(function (k) { return counts[k]; }).concat([1]));
    var list = el("dl", { class: "scores" });
    keys.forEach(function (key) {
      var label = (labels && labels[key]) || key.replace(/^STATEMENT_CATEGORY_/, "").replace(/_/g, " ").toLowerCase();
      var fill = el("span", { class: "bar-fill" });
      fill.style.width = (counts[key] ? Math.max(1, Math.round(counts[key] / most * 100)) : 0) + "%";
      list.appendChild(el("dt", { text: label }));
      list.appendChild(el("dd", null, [
        el("span", { class: "bar", role: "img", "aria-label": label + ": " + counts[key] }, [fill]),
        el("span", { class: "bar-value", text: String(counts[key]) })
      ]));
    });
    if (!keys.length) list = el("p", { class: "muted small", text: "None in this period." });
    return el("figure", { class: "panel chart" }, [el("figcaption", { text: title }), list]);
  }
  var transparencyCsv = null;
  // The same report as a CSV file, fetched with the console's credentials (a key is no cookie).
  function downloadTransparency() {
    var h = { Accept: "text/csv" };
    if (state.key) h.Authorization = "Bearer " + state.key;
    fetch(transparencyCsv, { headers: h, cache: "no-store" }).then(function (res) {
      if (!res.ok) { toast("The report could not be downloaded (" + res.status + ")", "error"); return null; }
      return res.blob();
    }).then(function (blob) {
      if (!blob) return;
      var link = el("a", { href: URL.createObjectURL(blob), download: "transparency-" + statsSite() + ".csv" });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });
  }
  function loadTransparency() {
    var days = parseInt($("transparency-days").value, 10);
    var until = new Date();
    var params = { site: statsSite(), since: new Date(until.getTime() - days * 864e5).toISOString(), until: until.toISOString() };
    transparencyCsv = "/v1/moderation/transparency" + qs(Object.assign({ format: "csv" }, params));
    var err = $("transparency-error");
    api("GET", "/v1/moderation/transparency" + qs(params)).then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      var r = res.data;
      var hours = r.notices.median_seconds_to_decision;
      var tiles = [
        [r.notices.received, "notices received"],
        [hours == null ? "–" : (hours / 3600).toFixed(1) + " h", "median time to decide a notice"],
        [r.restrictions.total, "restrictions"],
        [r.restrictions.model_share == null ? "–" : Math.round(r.restrictions.model_share * 100) + "%", "of restrictions detected by the model"]
      ];
      var box = clear($("transparency-tiles"));
      tiles.forEach(function (t) {
        box.appendChild(el("div", { class: "panel tile" }, [
          el("span", { class: "tile-value", text: String(t[0]) }), el("span", { class: "tile-label", text: t[1] })
        ]));
      });
      var charts = clear($("transparency-charts"));
      charts.appendChild(countBars("Notices by category", r.notices.by_category));
      charts.appendChild(countBars("Notices by decision", r.notices.by_decision));
      charts.appendChild(countBars("Restrictions by ground", r.restrictions.by_ground, { illegal: "illegal (a law)", site_rules: "the site's rules" }));
      charts.appendChild(countBars("Restrictions by kind", r.restrictions.by_kind));
      charts.appendChild(countBars("Restrictions: use of automation", r.restrictions.by_automation, { fully: "fully automated", partially: "person, flagged automatically", not_automated: "not automated" }));
      charts.appendChild(countBars("Decisions by who took them", r.decisions.by_actor, { automated: "the site's policy", human: "people", integration: "integrations" }));
      var appeals = { received: r.appeals.received, decided: r.appeals.decided, reversed: r.appeals.reversed };
      charts.appendChild(countBars(r.appeals.recorded ? "Appeals" : "Appeals (not recorded yet)", appeals));
    });
  }

  function loadDeliveries(more) {
    var ep = deliveryState.endpoint;
    var table = $("deliveries-table");
    show($("deliveries"), true);
    $("deliveries-title").textContent = "Deliveries to " + ep.url;
    api("GET", "/v1/admin/webhooks/" + ep.id + "/deliveries" + qs({ limit: 25, cursor: more ? deliveryState.cursor : "" })).then(function (res) {
      if (!more) {
        clear(table).appendChild(el("thead", null, [el("tr", null, ["Created", "Event", "Status", "Attempts", "Last code", "Delivered", ""].map(function (h) { return el("th", { text: h }); }))]));
        table.appendChild(el("tbody"));
      }
      var body = table.querySelector("tbody");
      if (!res.ok) { body.appendChild(el("tr", null, [el("td", { colspan: "7", class: "error", text: errorText(res) })])); return; }
      res.data.deliveries.forEach(function (d) {
        var logRow = el("tr", { class: "log-row", hidden: true }, [el("td", { colspan: "7" }, [
          el("ul", { class: "attempts" }, d.log.map(function (a) {
            return el("li", null, [
              el("span", { class: "muted small", text: when(a.attempted_at) + " · " + a.duration_ms + " ms · " }),
              el("strong", { text: a.status_code != null ? String(a.status_code) : (a.error || "no answer") }),
              a.response_excerpt ? el("pre", { class: "excerpt", text: a.response_excerpt }) : null
            ]);
          }))
        ])]);
        var actions = el("td", null, [
          el("button", { type: "button", class: "btn btn-quiet", text: "Log", onclick: function () { logRow.hidden = !logRow.hidden; } }),
          el("button", { type: "button", class: "btn btn-quiet", text: "Redeliver", onclick: function () {
            api("POST", "/v1/admin/webhooks/" + ep.id + "/deliveries/" + d.id + "/redeliver").then(function (r) {
              toast(r.ok ? "Delivery " + d.id + " queued again." : errorText(r), r.ok ? "ok" : "error");
            });
          } })
        ]);
        body.appendChild(el("tr", null, [
          el("td", { text: when(d.created_at) }), el("td", { class: "mono", text: d.event_type }),
          el("td", null, [el("span", { class: "badge badge-" + d.status, text: d.status })]),
          el("td", { text: String(d.attempts) }), el("td", { text: d.last_status_code != null ? String(d.last_status_code) : "–" }),
          el("td", { text: when(d.delivered_at) || "–" }), actions
        ]));
        body.appendChild(logRow);
      });
      deliveryState.cursor = res.data.next_cursor;
      show($("deliveries-more"), !!deliveryState.cursor);
    });
  }

  // --- moderators' notes ------------------------------------------------------------------
  function noteItem(n) {
    return el("li", { class: "note" }, [
      el("span", { class: "muted small", text: when(n.created_at) + " · " + (n.actor_name || n.actor) + ": " }),
      el("span", { class: "note-text", text: n.text })
    ]);
  }
  function toggleNotes(item, box, button, focusInput) {
    if (!box.hidden && !focusInput) { box.hidden = true; button.setAttribute("aria-expanded", "false"); return; }
    if (!box.hidden) { box.querySelector("textarea").focus(); return; }
    box.hidden = false;
    button.setAttribute("aria-expanded", "true");
    var list = el("ol", { class: "notes", "aria-label": "Notes on comment " + item.id });
    var fieldId = "note-input-" + item.id;
    var input = el("textarea", { id: fieldId, rows: "2", maxlength: "2000", class: "note-input" });
    var error = el("p", { class: "error", role: "alert", hidden: true });
    var add = el("button", { type: "submit", class: "btn", text: "Add note" });
    var form = el("form", { class: "note-form", novalidate: true }, [
      el("label", { for: fieldId, text: "Add a note for the other moderators" }), input, error, add
    ]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!input.value.trim()) { error.textContent = "Write the note first."; show(error, true); input.focus(); return; }
      add.disabled = true;
      api("POST", "/v1/moderation/comments/" + item.id + "/notes", { text: input.value }).then(function (res) {
        add.disabled = false;
        if (!res.ok) { error.textContent = res.status === 422 ? filterProblem(res) : errorText(res); show(error, true); return; }
        show(error, false);
        var empty = list.querySelector(".notes-empty");
        if (empty) empty.remove();
        list.appendChild(noteItem(res.data));
        input.value = "";
        toast("Note added to comment #" + item.id + ".", "ok");
      });
    });
    clear(box).appendChild(el("h3", { text: "Moderators' notes" }));
    box.appendChild(list);
    box.appendChild(form);
    list.appendChild(el("li", { class: "muted small notes-empty", text: "Loading the notes…" }));
    api("GET", "/v1/moderation/comments/" + item.id + "/notes").then(function (res) {
      clear(list);
      if (!res.ok) { error.textContent = errorText(res); show(error, true); return; }
      if (!res.data.notes.length) list.appendChild(el("li", { class: "muted small notes-empty", text: "No notes yet." }));
      res.data.notes.forEach(function (n) { list.appendChild(noteItem(n)); });
    });
    if (focusInput) input.focus();
  }

  // --- the author drawer ------------------------------------------------------------------
  var drawer = { item: null, site: null, key: null, opener: null, who: null };
  var STANDINGS = { regular: "regular", trusted: "trusted", suspended: "suspended", banned: "banned" };
  function openDialog(dialog, opener) {
    dialog.opener = opener || document.activeElement;
    if (!dialog.open) dialog.showModal();
  }
  function closeDialog(dialog) { if (dialog.open) dialog.close(); }
  function localInput(iso) {
    var d = date(iso);
    if (!d || isNaN(d)) return "";
    var pad = function (x) { return (x < 10 ? "0" : "") + x; };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function openAuthor(item, opener) {
    var author = item.author || {};
    var site = siteById(item.site_id) || {};
    drawer = { item: item, site: site.slug, key: author.key || null, who: author.key || author.email || author.user_id || null, name: author.name || "(no name)" };
    $("author-title").textContent = drawer.name;
    var h = author.history;
    clear($("author-summary"));
    append($("author-summary"), [
      identityBadge(author.verified, ["verified reader", "Signed in: the site vouched for this reader"], "unverified", "name, e-mail and user id are the reader's own claims"),
      author.email ? el("span", { class: "muted", text: " " + author.email + " " }) : " ",
      h ? el("span", { class: "history" }, [
        el("span", { class: "pill pill-approved", text: h.approved + " approved" }),
        el("span", { class: "pill pill-rejected", text: h.rejected + " rejected" }),
        el("span", { class: "pill pill-held", text: h.held + " held" })
      ]) : null
    ]);
    show($("standing-form"), !!drawer.key);
    show($("standing-unverified"), !drawer.key);
    show($("standing-error"), false);
    $("standing-now").textContent = drawer.key ? "Loading the standing…" : "";
    show($("author-erase-part"), !!(state.me.role === "admin" && (author.key || author.email)));
    openDialog($("author-drawer"), opener);
    if (drawer.key) loadStanding();
    loadAuthorComments();
  }
  function showStanding(a) {
    var until = a.suspended_until ? " until " + when(a.suspended_until) : "";
    $("standing-now").textContent = "Now: " + (STANDINGS[a.standing] || a.standing) + until +
      (a.explicit_standing ? " (set by a moderator" + (a.note ? ": “" + a.note + "”" : "") + ")" : " (from the policy and their history)");
    $("standing-select").value = a.explicit_standing || "regular";
    $("standing-until").value = localInput(a.suspended_until);
    $("standing-note").value = a.note || "";
    syncStandingForm();
  }
  function loadStanding() {
    api("GET", "/v1/moderation/authors" + qs({ site: drawer.site, key: drawer.key })).then(function (res) {
      if (!res.ok) { $("standing-now").textContent = errorText(res); return; }
      showStanding(res.data);
    });
  }
  function syncStandingForm() {
    var suspended = $("standing-select").value === "suspended";
    show($("standing-until-row"), suspended);
    $("standing-until").required = suspended;
  }
  function saveStanding() {
    var standing = $("standing-select").value;
    var body = { standing: standing, note: $("standing-note").value };
    var err = $("standing-error");
    if (standing === "suspended") {
      var until = $("standing-until").value ? new Date($("standing-until").value) : null;
      if (!until || isNaN(until)) { err.textContent = "Until: a suspension needs an end date."; show(err, true); $("standing-until").focus(); return; }
      body.suspended_until = until.toISOString();
    }
    api("PUT", "/v1/moderation/authors" + qs({ site: drawer.site, key: drawer.key }), body).then(function (res) {
      if (!res.ok) { err.textContent = res.status === 422 ? filterProblem(res) : errorText(res); show(err, true); return; }
      show(err, false);
      showStanding(res.data);
      toast(drawer.name + " is now " + res.data.standing + ".", "ok");
    });
  }
  // Their comments in every queue, newest first (the queue API reads one queue at a time).
  function loadAuthorComments() {
    var list = clear($("author-comments"));
    var err = $("author-error");
    show(err, false);
    if (!drawer.who) { list.appendChild(el("li", { class: "muted small", text: "This reader gave no user id or e-mail: their other comments cannot be told apart." })); return; }
    list.appendChild(el("li", { class: "muted small", text: "Loading their comments…" }));
    var queues = ["held", "pending", "approved", "rejected"];
    Promise.all(queues.map(function (q) {
      return api("GET", "/v1/moderation/comments" + qs({ queue: q, site: drawer.site, author: drawer.who, sort: "newest", limit: 20 }));
    })).then(function (answers) {
      clear(list);
      var failed = answers.filter(function (r) { return !r.ok; })[0];
      if (failed) { err.textContent = errorText(failed); show(err, true); return; }
      var items = [];
      answers.forEach(function (r) { items = items.concat(r.data.items); });
      items.sort(function (a, b) { return b.id - a.id; });
      if (!items.length) list.appendChild(el("li", { class: "muted small", text: "No comments found." }));
      items.slice(0, 40).forEach(function (c) {
        var text = (c.text || "").length > 160 ? c.text.slice(0, 160) + "…" : c.text;
        list.appendChild(el("li", { class: "author-comment" }, [
          el("span", { class: "badge badge-" + c.status, text: c.status }), " ",
          el("a", { href: "#comment/" + c.id, text: "#" + c.id, "aria-label": "Open comment #" + c.id, onclick: function () { closeDialog($("author-drawer")); } }),
          el("span", { class: "muted small", text: " · " + when(c.created_at) + " · " + ((c.article && (c.article.title || c.article.id)) || "") }),
          el("p", { class: "author-comment-text", text: text })
        ]));
      });
    });
  }
  function openErase() {
    $("erase-who").textContent = drawer.name;
    $("erase-confirm").value = "";
    $("erase-note").value = "";
    $("erase-submit").disabled = true;
    show($("erase-error"), false);
    openDialog($("erase-dialog"), $("author-erase"));
    $("erase-confirm").focus();
  }
  function erasePerson() {
    var author = drawer.item.author || {};
    var body = { note: $("erase-note").value };
    if (author.key) body.key = author.key; else body.email = author.email;
    $("erase-submit").disabled = true;
    api("POST", "/v1/admin/sites/" + encodeURIComponent(drawer.site) + "/author-erasure", body).then(function (res) {
      if (!res.ok) {
        $("erase-error").textContent = errorText(res);
        show($("erase-error"), true);
        $("erase-submit").disabled = false;
        return;
      }
      var d = res.data;
      closeDialog($("erase-dialog"));
      closeDialog($("author-drawer"));
      toast("Erased: " + d.comments + " comment" + (d.comments === 1 ? "" : "s") + ", " + d.reports + " report" + (d.reports === 1 ? "" : "s") + ", " + d.notices + " notice" + (d.notices === 1 ? "" : "s") + ".", "ok");
      if (state.view === "queue") { loadCounts(); if (state.single) loadOne(state.single); else loadQueue(false); }
    });
  }

  // --- article view -----------------------------------------------------------------------
  var articleState = null;
  function loadArticle(article) {
    articleState = article;
    var err = $("article-error");
    show($("article-form"), false);
    show($("featured-panel"), false);
    $("article-title").textContent = "Article " + article.id;
    api("GET", "/v1/admin/sites/" + encodeURIComponent(article.site) + "/articles/" + encodeURIComponent(article.id)).then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      showArticle(res.data);
    });
  }
  function showArticle(a) {
    $("article-title").textContent = a.title || a.id;
    var meta = clear($("article-meta"));
    var url = safeUrl(a.url);
    append(meta, [
      "Id " + a.id + " on " + articleState.site + " · " + a.approved_count + " published comment" + (a.approved_count === 1 ? "" : "s") + " · ",
      url ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: "open the article" }) : null
    ]);
    $("article-closed").checked = a.closed;
    $("article-premoderated").checked = a.premoderated;
    show($("article-form"), true);
    loadFeatured(false);
  }
  // The article's published comments, featured ones marked, each with a button to (un)feature it.
  var featuredCursor = null;
  function loadFeatured(more) {
    var list = $("featured-list"), err = $("featured-error");
    if (!more) { clear(list); featuredCursor = null; }
    var params = { queue: "approved", site: articleState.site, article: articleState.id, limit: 25, cursor: more ? featuredCursor : null };
    api("GET", "/v1/moderation/comments" + qs(params)).then(function (res) {
      show($("featured-panel"), true);
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      res.data.items.forEach(function (item) { list.appendChild(featuredRow(item)); });
      featuredCursor = res.data.next_cursor;
      show($("featured-more"), !!featuredCursor);
      show($("featured-empty"), !list.children.length);
    });
  }
  function featuredRow(item) {
    var who = (item.author && item.author.name) || "Anonymous";
    var button = el("button", { type: "button", class: "btn", "aria-pressed": item.featured ? "true" : "false",
      text: item.featured ? "Unfeature" : "Feature", "aria-label": (item.featured ? "Unfeature" : "Feature") + " the comment by " + who });
    var row = el("li", { "data-id": String(item.id) }, [
      el("div", { class: "featured-text" }, [
        item.featured ? el("span", { class: "featured-badge", text: "Featured" }) : null,
        el("strong", { text: " " + who + ": " }),
        el("span", { text: item.text }),
        el("span", { class: "muted small", text: " · " + item.likes + " like" + (item.likes === 1 ? "" : "s") })
      ]),
      button
    ]);
    button.addEventListener("click", function () {
      button.disabled = true;
      api("PUT", "/v1/moderation/comments/" + item.id + "/featured", { featured: !item.featured }).then(function (res) {
        button.disabled = false;
        if (!res.ok) { $("featured-error").textContent = errorText(res); show($("featured-error"), true); return; }
        item.featured = res.data.featured;
        var fresh = featuredRow(item);
        row.replaceWith(fresh);
        fresh.querySelector("button").focus();
        toast(item.featured ? "Featured: the thread shows it first." : "No longer featured.", "ok");
      });
    });
    return row;
  }
  function saveArticle() {
    var err = $("article-error");
    var body = { closed: $("article-closed").checked, premoderated: $("article-premoderated").checked };
    api("PATCH", "/v1/admin/sites/" + encodeURIComponent(articleState.site) + "/articles/" + encodeURIComponent(articleState.id), body).then(function (res) {
      if (!res.ok) { err.textContent = errorText(res); show(err, true); return; }
      show(err, false);
      showArticle(res.data);
      toast("Saved: comments " + (res.data.closed ? "closed" : "open") + (res.data.premoderated ? ", pre-moderated" : "") + ".", "ok");
    });
  }
  function articleInQueue() {
    if (state.me.all_sites || state.me.sites.length > 1) { state.site = articleState.site; $("site-select").value = state.site; }
    $("f-article").value = articleState.id;
    location.hash = "#queue";
  }

  // --- policy editor with its simulation ----------------------------------------------------
  var policyState = { policy: null, site: null, simulated: null };
  function words(text) { return text.split(/\n/).map(function (w) { return w.trim(); }).filter(Boolean); }
  function sameList(a, b) { return JSON.stringify(a || []) === JSON.stringify(b || []); }
  function thresholdValue(input) {
    var v = input.value.trim();
    return v === "" ? null : Number(v);
  }
  function fillPolicyEditor(p, labels) {
    policyState.policy = p;
    policyState.simulated = null;
    var body = clear($("policy-edit-thresholds").querySelector("tbody"));
    labels.forEach(function (label) {
      var t = p.thresholds[label];
      var name = label.replace(/_/g, " ");
      function cell(kind, value) {
        return el("td", null, [el("input", {
          type: "number", min: "0", max: "1", step: "any", class: "th-input", "data-label": label, "data-kind": kind,
          value: value == null ? "" : String(value), "aria-label": (kind === "hold" ? "Hold " : "Reject ") + name + " at", placeholder: "never"
        })]);
      }
      body.appendChild(el("tr", null, [el("th", { scope: "row", text: name }), cell("hold", t.hold), cell("reject", t.reject)]));
    });
    $("pe-premoderation").checked = !!p.premoderation;
    $("pe-report-threshold").value = p.report_threshold;
    $("pe-banned").value = (p.banned_words || []).join("\n");
    $("pe-suspect").value = (p.suspect_words || []).join("\n");
    show($("simulation"), false);
    show($("policy-edit-error"), false);
    syncPolicySave();
    show($("policy-editor"), true);
  }
  // Only what differs from the policy in force: the PATCH (and the simulation) merge the rest.
  function policyChanges() {
    var p = policyState.policy, changes = {};
    var thresholds = {};
    document.querySelectorAll("#policy-edit-thresholds .th-input").forEach(function (input) {
      var label = input.getAttribute("data-label"), kind = input.getAttribute("data-kind");
      var value = thresholdValue(input);
      if (value !== p.thresholds[label][kind]) (thresholds[label] = thresholds[label] || {})[kind] = value;
    });
    if (Object.keys(thresholds).length) changes.thresholds = thresholds;
    if ($("pe-premoderation").checked !== !!p.premoderation) changes.premoderation = $("pe-premoderation").checked;
    var report = Number($("pe-report-threshold").value);
    if ($("pe-report-threshold").value !== "" && report !== p.report_threshold) changes.report_threshold = report;
    if (!sameList(words($("pe-banned").value), p.banned_words)) changes.banned_words = words($("pe-banned").value);
    if (!sameList(words($("pe-suspect").value), p.suspect_words)) changes.suspect_words = words($("pe-suspect").value);
    return changes;
  }
  function syncPolicySave() {
    var admin = state.me && state.me.role === "admin";
    var current = JSON.stringify(policyChanges());
    var ready = admin && policyState.simulated !== null && policyState.simulated === current && current !== "{}";
    $("policy-save").disabled = !ready;
    $("policy-save-note").textContent = !admin ? "Only admins save a policy." :
      current === "{}" ? "Nothing changed yet." : ready ? "Simulated: ready to save." : "Simulate these changes before saving.";
  }
  var STATUS_NAMES = { approved: "published", held: "held", rejected: "rejected", pending: "pending" };
  function showSimulation(r) {
    var box = clear($("simulation-body"));
    box.appendChild(el("p", { class: "sim-summary", text: "Of the " + r.compared + " most recent scored comments, " + r.changed + " would be decided differently." }));
    var statuses = ["approved", "held", "rejected", "pending"].filter(function (k) { return r.current[k] || r.proposed[k]; });
    box.appendChild(el("table", { class: "table sim-table" }, [
      el("caption", { class: "visually-hidden", text: "Decisions now and under the change" }),
      el("thead", null, [el("tr", null, [el("th", { scope: "col", text: "Decision" }), el("th", { scope: "col", text: "Now" }), el("th", { scope: "col", text: "With the change" })])]),
      el("tbody", null, statuses.map(function (k) {
        return el("tr", null, [el("th", { scope: "row", text: STATUS_NAMES[k] || k }), el("td", { class: "num", text: String(r.current[k] || 0) }), el("td", { class: "num", text: String(r.proposed[k] || 0) })]);
      }))
    ]));
    var moves = Object.keys(r.changes);
    if (moves.length) {
      box.appendChild(el("ul", { class: "sim-changes" }, moves.map(function (m) {
        var parts = m.split("->");
        return el("li", { text: r.changes[m] + " from " + (STATUS_NAMES[parts[0]] || parts[0]) + " to " + (STATUS_NAMES[parts[1]] || parts[1]) });
      })));
    }
    if (r.examples.length) {
      box.appendChild(el("h3", { text: "Examples" }));
      box.appendChild(el("ul", { class: "sim-examples" }, r.examples.map(function (e) {
        return el("li", null, [
          el("a", { href: "#comment/" + e.id, text: "Comment #" + e.id }),
          el("span", { text: ": " + (STATUS_NAMES[e.current] || e.current) + " → " + (STATUS_NAMES[e.proposed] || e.proposed) }),
          e.reasons.length ? el("span", { class: "muted small", text: " (" + e.reasons.map(reasonText).join("; ") + ")" }) : null
        ]);
      })));
    }
    if (r.estimates) {
      var c = r.estimates.current, n = r.estimates.proposed;
      box.appendChild(el("p", { class: "muted small", text: "Estimates from the model's evaluation data: clean comments held " + pct(c.clean_held) + " → " + pct(n.clean_held) + "; toxic comments published " + pct(c.toxic_published) + " → " + pct(n.toxic_published) + "." }));
    }
    show($("simulation"), true);
  }
  function simulatePolicy() {
    var changes = policyChanges();
    var err = $("policy-edit-error");
    if (!Object.keys(changes).length) { err.textContent = "Change something first: the simulation compares a change with the policy in force."; show(err, true); return; }
    var sent = JSON.stringify(changes);
    $("policy-simulate").disabled = true;
    api("POST", "/v1/moderation/sites/" + encodeURIComponent(policyState.site) + "/simulate", { policy: changes, last: 1000 }).then(function (res) {
      $("policy-simulate").disabled = false;
      if (!res.ok) {
        err.textContent = res.status === 422 ? policyProblem(res) : errorText(res);
        show(err, true);
        show($("simulation"), false);
        policyState.simulated = null;
        syncPolicySave();
        return;
      }
      show(err, false);
      policyState.simulated = sent;
      showSimulation(res.data);
      syncPolicySave();
      $("simulation-title").focus();
    });
  }
  function policyProblem(res) {
    var errors = (res.data && res.data.errors) || [];
    if (!errors.length) return errorText(res);
    return errors.map(function (e) { return e.field.replace(/^policy\./, "").replace(/_/g, " ").replace(/\./g, " ") + ": " + e.message; }).join(" · ");
  }
  function savePolicy() {
    var changes = policyChanges();
    if (JSON.stringify(changes) !== policyState.simulated) { syncPolicySave(); return; }
    $("policy-save").disabled = true;
    api("PATCH", "/v1/admin/sites/" + encodeURIComponent(policyState.site) + "/policy", changes).then(function (res) {
      var err = $("policy-edit-error");
      if (!res.ok) { err.textContent = res.status === 422 ? policyProblem(res) : errorText(res); show(err, true); syncPolicySave(); return; }
      show(err, false);
      toast("The policy of " + policyState.site + " is saved.", "ok");
      loadPolicy();
    });
  }

  // --- wiring ----------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    LABELS.forEach(function (l) { $("f-label").appendChild(el("option", { value: l, text: l.replace(/_/g, " ") })); });
    $("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var key = $("key-input").value.trim();
      if (key) signIn(key);
    });
    $("account-form").addEventListener("submit", function (ev) { ev.preventDefault(); accountSignIn(); });
    $("reset-form").addEventListener("submit", function (ev) { ev.preventDefault(); submitReset(); });
    $("sign-out").addEventListener("click", function () { signOut(); });
    $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); loadQueue(false); });
    $("f-sort").addEventListener("change", function () { loadQueue(false); });
    $("f-spam").addEventListener("change", function () { loadQueue(false); });
    $("queue-more").addEventListener("click", function () { loadQueue(true); });
    $("select-all").addEventListener("change", function () {
      var on = $("select-all").checked;
      state.items.forEach(function (it) { toggleSelect(it.id, on); });
    });
    $("bulk-approve").addEventListener("click", function () { bulk("approved"); });
    $("bulk-reject").addEventListener("click", function () { bulk("rejected"); });
    $("bulk-hold").addEventListener("click", function () { bulk("held"); });
    $("site-select").addEventListener("change", function () { state.site = $("site-select").value; fillReasonSelect($("bulk-reason"), null); route(); });
    $("stats-days").addEventListener("change", loadStats);
    $("deliveries-more").addEventListener("click", function () { loadDeliveries(true); });
    $("history-more").addEventListener("click", function () { loadHistory(true); });
    $("notices-more").addEventListener("click", function () { loadNotices(true); });
    $("transparency-days").addEventListener("change", loadTransparency);
    $("transparency-csv").addEventListener("click", downloadTransparency);
    $("f-clear").addEventListener("click", clearFilters);
    $("f-language").addEventListener("change", function () { loadQueue(false); });
    $("author-close").addEventListener("click", function () { closeDialog($("author-drawer")); });
    $("standing-select").addEventListener("change", syncStandingForm);
    $("standing-form").addEventListener("submit", function (ev) { ev.preventDefault(); saveStanding(); });
    $("author-erase").addEventListener("click", openErase);
    $("erase-cancel").addEventListener("click", function () { closeDialog($("erase-dialog")); });
    $("erase-confirm").addEventListener("input", function () { $("erase-submit").disabled = $("erase-confirm").value.trim() !== "ERASE"; });
    $("erase-form").addEventListener("submit", function (ev) { ev.preventDefault(); if ($("erase-confirm").value.trim() === "ERASE") erasePerson(); });
    // A closed dialog gives the focus back to what opened it.
    ["author-drawer", "erase-dialog"].forEach(function (id) {
      $(id).addEventListener("close", function () {
        var opener = $(id).opener;
        if (opener && document.contains(opener)) opener.focus();
      });
    });
    $("article-form").addEventListener("submit", function (ev) { ev.preventDefault(); saveArticle(); });
    $("article-queue").addEventListener("click", articleInQueue);
    $("featured-more").addEventListener("click", function () { loadFeatured(true); });
    $("policy-editor").addEventListener("submit", function (ev) { ev.preventDefault(); simulatePolicy(); });
    $("policy-editor").addEventListener("input", syncPolicySave);
    $("policy-editor").addEventListener("change", syncPolicySave);
    $("policy-save").addEventListener("click", savePolicy);
    window.addEventListener("hashchange", route);
    var saved = sessionStorage.getItem(KEY_STORE);
    var reset = /^#reset=(.+)$/.exec(location.hash);
    if (reset) showReset(decodeURIComponent(reset[1]));
    else if (saved) signIn(saved);
    else resumeSession();
  });
})();
