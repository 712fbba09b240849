// Quill's small enhancements. Every page works without this file; it adds the editor's live
// preview and keeps what is typed in the editor on this device until the server has it, and
// uploads images at the cursor, asks before leaving unsaved text or unpublishing, saves on
// Ctrl+S (Cmd+S), shows times in the reader's own time zone and closes the header menu.
"use strict";

(() => {
  const DRAFT_PREFIX = "quill:draft:";
  const SAVING_KEY = "quill:saving"; // sessionStorage: which draft was just submitted
  const AUTOSAVE_DELAY_MS = 400;
  const PREVIEW_DELAY_MS = 350;
  const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif"];
  const NARROW = "(max-width: 63.99rem)"; // the editor's panes stack: Write and Preview become tabs

  // Storage can be full or switched off (private windows); the editor then still works.
  const store = {
    read(key) {
      try {
        return JSON.parse(localStorage.getItem(key));
      } catch {
        return null;
      }
    },
    write(key, value) {
      try {
        localStorage.setItem(key, JSON.stringify(value));
        return true;
      } catch {
        return false;
      }
    },
    remove(key) {
      try {
        localStorage.removeItem(key);
      } catch {
        // nothing to clean up
      }
    },
  };

  // The page after a submitted editor says whether the server saved the story; only then is
  // the copy kept on this device dropped. A failed save, a refused one (a newer version, a
  // session that ended) or an error page keeps it.
  function forgetSavedDraft() {
    let key = null;
    try {
      key = sessionStorage.getItem(SAVING_KEY);
      sessionStorage.removeItem(SAVING_KEY);
    } catch {
      return;
    }
    if (key && document.querySelector("[data-story-saved]")) {
      store.remove(DRAFT_PREFIX + key);
    }
  }

  // "2026-12-24T09:00:00+01:00": a datetime-local value read in this browser's time zone.
  function isoWithOffset(localValue) {
    const moment = new Date(localValue);
    if (Number.isNaN(moment.getTime())) return "";
    const pad = (number) => String(Math.trunc(Math.abs(number))).padStart(2, "0");
    const offset = -moment.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    return (
      `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
      `T${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}` +
      `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
    );
  }

  // The reverse: an instant as a datetime-local input shows it in this browser's time zone.
  function localValue(moment) {
    const pad = (number) => String(number).padStart(2, "0");
    return (
      `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
      `T${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}`
    );
  }

  function localTimeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch {
      return "";
    }
  }

  function setupEditor(form) {
    const draftKey = form.dataset.draftKey;
    const storageKey = DRAFT_PREFIX + draftKey;
    const fields = ["title", "content", "tags", "cover_image"]
      .map((name) => form.elements[name])
      .filter((field) => field instanceof HTMLElement);
    const content = form.elements.content;
    const status = form.querySelector("[data-autosave-status]");
    const preview = form.querySelector("[data-preview]");
    const placeholder = preview?.querySelector(".preview-empty")?.cloneNode(true);
    const notice = form.querySelector("[data-restored-notice]");
    const csrfToken = () => form.elements.csrfmiddlewaretoken.value;

    const currentValues = () => Object.fromEntries(fields.map((field) => [field.name, field.value]));
    const fill = (values) => {
      for (const field of fields) {
        if (typeof values[field.name] === "string") field.value = values[field.name];
      }
    };
    const serverValues = currentValues();
    const changed = () => new Event("input", { bubbles: true });

    // --- Live preview, rendered by the server's sanitising renderer ----------------------
    let previewTimer = null;
    let previewRequest = null;

    async function refreshPreview() {
      if (!preview) return; // a conflict shows the saved version there instead
      previewRequest?.abort();
      previewRequest = new AbortController();
      const body = new FormData();
      body.append("content", content.value);
      body.append("csrfmiddlewaretoken", csrfToken());
      try {
        const response = await fetch(form.dataset.previewUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          signal: previewRequest.signal,
        });
        if (!response.ok) throw new Error(`preview answered ${response.status}`);
        const html = await response.text();
        if (html.trim()) {
          // innerHTML only because the server sanitised this HTML with the story pages' allow-list.
          preview.innerHTML = html;
        } else if (placeholder) {
          preview.replaceChildren(placeholder.cloneNode(true));
        }
        preview.classList.remove("preview-stale");
      } catch (error) {
        if (error.name === "AbortError") return;
        preview.classList.add("preview-stale");
        status.textContent = "Preview unavailable: are you still signed in?";
      }
    }

    function schedulePreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(refreshPreview, PREVIEW_DELAY_MS);
    }

    // With JavaScript the preview follows the typing; the button is for browsers without it.
    const previewButton = form.querySelector("[data-preview-button]");
    if (previewButton) previewButton.hidden = true;

    // --- Autosave to this device -------------------------------------------------------
    let autosaveTimer = null;

    function autosave() {
      clearTimeout(autosaveTimer);
      autosaveTimer = null;
      if (store.write(storageKey, { ...currentValues(), savedAt: Date.now() })) {
        status.textContent = "Unsaved changes kept on this device";
      }
    }

    const stored = store.read(storageKey);
    if (stored && fields.some((field) => typeof stored[field.name] === "string" && stored[field.name] !== field.value)) {
      fill(stored);
      if (stored.savedAt) {
        notice.querySelector("[data-restored-when]").textContent =
          ` (from ${new Date(stored.savedAt).toLocaleString()})`;
      }
      notice.hidden = false;
      refreshPreview();
    }

    notice.querySelector("[data-discard-restored]").addEventListener("click", () => {
      fill(serverValues);
      store.remove(storageKey);
      notice.hidden = true;
      status.textContent = "";
      showCover(form.elements.cover_image?.value || "");
      refreshPreview();
    });

    form.addEventListener("input", (event) => {
      if (!fields.includes(event.target)) return;
      clearTimeout(autosaveTimer);
      autosaveTimer = setTimeout(autosave, AUTOSAVE_DELAY_MS);
      if (event.target === content) schedulePreview();
    });

    // Leaving or reloading within the autosave delay must not lose the last keystrokes.
    window.addEventListener("pagehide", () => {
      if (autosaveTimer) autosave();
    });

    // --- Leaving with unsaved changes asks first --------------------------------------
    // Unsaved: typed since the page came, or a page showing text the server refused or has not
    // had yet (an error, a conflict, a question, the server-side preview).
    let submitting = false;
    const unsaved = () =>
      form.hasAttribute("data-unsaved") || fields.some((field) => field.value !== serverValues[field.name]);
    window.addEventListener("beforeunload", (event) => {
      if (submitting || !unsaved()) return;
      if (autosaveTimer) autosave();
      event.preventDefault();
      event.returnValue = ""; // older browsers need it set to ask
    });
    window.addEventListener("pageshow", () => {
      submitting = false; // back here from the page cache: a new submit decides again
    });

    // --- Submitting: the questions first, then the copy on this device stays until saved --
    const pressButton = (action) => {
      const button = document.createElement("button");
      button.type = "submit";
      button.name = "action";
      button.value = action;
      button.hidden = true;
      form.append(button);
      form.requestSubmit(button);
      button.remove();
    };
    const addHidden = (name, value) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    };

    form.addEventListener("submit", (event) => {
      const action = event.submitter?.value || "";
      if (action === "preview" && preview) {
        event.preventDefault();
        refreshPreview();
        return;
      }
      if (action === "unpublish" && !form.elements.confirmed) {
        const title = form.elements.title.value.trim() || form.dataset.title || "this story";
        const question = `Unpublish “${title}”?\n\nIt becomes a draft again: readers will no longer find it.`;
        if (!window.confirm(question)) {
          event.preventDefault();
          return;
        }
        addHidden("confirmed", "1");
      }
      // Schedule sends the time typed in this browser's time zone, with its offset.
      const iso = form.elements.publish_at_iso;
      if (iso) iso.value = action === "schedule" ? isoWithOffset(form.elements.publish_at.value) : "";
      autosave();
      submitting = true;
      try {
        sessionStorage.setItem(SAVING_KEY, draftKey);
      } catch {
        // without sessionStorage the copy on this device simply stays until the next save
      }
    });

    // Ctrl+S / Cmd+S saves (a draft stays a draft, a published or scheduled story stays so)
    // and comes back to the editor.
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        if (!submitting) pressButton("save");
      }
    });

    // --- Scheduling: the time in this browser's zone ------------------------------------
    const publishAt = form.elements.publish_at;
    if (publishAt) {
      const zone = localTimeZone();
      const hint = form.querySelector("[data-time-zone-hint]");
      if (hint) {
        hint.textContent = `In your time zone${zone ? ` (${zone})` : ""}. Until then only you can see the story.`;
      }
      // The server shows a stored time in its own zone (UTC); here it reads in the browser's.
      if (!form.hasAttribute("data-unsaved") && publishAt.value) {
        const utc = new Date(`${publishAt.value}Z`);
        if (!Number.isNaN(utc.getTime())) publishAt.value = localValue(utc);
      }
      publishAt.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          pressButton("schedule");
        }
      });
    }

    // --- Images: a button, drag-and-drop and paste upload, then the Markdown at the cursor --
    const uploadStatus = form.querySelector("[data-upload-status]");
    const maxBytes = Number(form.dataset.uploadMaxMb || "10") * 1024 * 1024;
    let uploadCount = 0;

    function say(element, message, isError = false) {
      if (!element) return;
      element.textContent = message;
      element.classList.toggle("is-error", isError);
    }

    async function upload(file) {
      if (!IMAGE_TYPES.includes(file.type)) {
        throw new Error("Only JPEG, PNG, WebP and GIF images can be uploaded.");
      }
      if (file.size > maxBytes) {
        throw new Error(`The image is larger than ${form.dataset.uploadMaxMb} MiB.`);
      }
      const body = new FormData();
      body.append("file", file);
      body.append("csrfmiddlewaretoken", csrfToken());
      let response;
      try {
        response = await fetch(form.dataset.uploadUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        });
      } catch {
        throw new Error("The upload did not reach Quill: check the connection and try again.");
      }
      let data = null;
      try {
        data = await response.json();
      } catch {
        // an error page, not JSON: the status says enough
      }
      if (response.ok && data?.url) return data;
      if (data?.error) throw new Error(data.error);
      if (response.status === 401) throw new Error("You are signed out: sign in again to upload.");
      if (response.status === 403) throw new Error("This page has expired: reload it to upload (your text is kept).");
      if (response.status === 413) throw new Error(`The image is larger than ${form.dataset.uploadMaxMb} MiB.`);
      throw new Error(`The upload failed (the server answered ${response.status}). Try again.`);
    }

    // Inserts `text` at the cursor as a paragraph of its own (an image between two paragraphs,
    // not inside one); returns exactly what went in.
    function insertAtCursor(text) {
      const start = content.selectionStart ?? content.value.length;
      const end = content.selectionEnd ?? start;
      const before = content.value.slice(0, start);
      const after = content.value.slice(end);
      const newlines = (count) => "\n".repeat(Math.max(0, count));
      const lead = before ? newlines(2 - (before.match(/\n*$/)[0].length)) : "";
      const tail = after ? newlines(2 - (after.match(/^\n*/)[0].length)) : "\n";
      const inserted = lead + text + tail;
      content.value = before + inserted + after;
      const cursor = (before + inserted).length;
      content.setSelectionRange(cursor, cursor);
      return inserted;
    }

    function replaceText(search, replacement) {
      const at = content.value.indexOf(search);
      if (at < 0) return false;
      const cursor = content.selectionStart;
      content.value = content.value.slice(0, at) + replacement + content.value.slice(at + search.length);
      const shift = replacement.length - search.length;
      const place = cursor > at ? cursor + shift : cursor;
      content.setSelectionRange(place, place);
      return true;
    }

    async function uploadImages(files) {
      for (const file of files) {
        uploadCount += 1;
        const name = (file.name || "image").replace(/[[\]()]/g, "");
        const marker = `![Uploading ${name} (${uploadCount})…]()`;
        const inserted = insertAtCursor(marker);
        content.dispatchEvent(changed());
        say(uploadStatus, `Uploading ${name}…`);
        try {
          const image = await upload(file);
          const markdown = `![](${image.url})`;
          if (!replaceText(marker, markdown)) insertAtCursor(markdown);
          say(uploadStatus, `${name} is uploaded and in the story.`);
        } catch (error) {
          // Drop the marker and the line breaks it came with.
          if (!replaceText(inserted, "")) replaceText(marker, "");
          say(uploadStatus, `${name} was not uploaded: ${error.message}`, true);
        }
        content.dispatchEvent(changed());
      }
    }

    const imageFiles = (list) => [...(list || [])].filter((file) => file.type.startsWith("image/") || !file.type);

    // The file field is sent with the form when JavaScript is off; here it uploads at once.
    const imageInput = form.elements.image_file;
    const insertButton = form.querySelector("[data-insert-image]");
    if (imageInput && insertButton) {
      form.querySelector("[data-image-field]").hidden = true;
      for (const hint of form.querySelectorAll("[data-image-hint]")) hint.hidden = true;
      form.querySelector("[data-image-hint-js]").hidden = false;
      insertButton.hidden = false;
      insertButton.addEventListener("click", () => imageInput.click());
      imageInput.addEventListener("change", async () => {
        const files = [...imageInput.files];
        imageInput.value = "";
        content.focus();
        await uploadImages(files);
      });
    }

    content.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      content.classList.add("is-drop-target");
    });
    content.addEventListener("dragleave", () => content.classList.remove("is-drop-target"));
    content.addEventListener("drop", (event) => {
      content.classList.remove("is-drop-target");
      const files = imageFiles(event.dataTransfer?.files);
      if (!event.dataTransfer?.files?.length) return; // dropped text: the browser inserts it
      event.preventDefault();
      if (!files.length) {
        say(uploadStatus, "Only images can be dropped here.", true);
        return;
      }
      uploadImages(files);
    });
    content.addEventListener("paste", (event) => {
      const files = imageFiles(event.clipboardData?.files);
      if (!files.length) return; // pasted text
      event.preventDefault();
      uploadImages(files);
    });

    // --- Cover: upload or an address, with its preview; removable --------------------------
    const coverField = form.elements.cover_image;
    const coverPreview = form.querySelector("[data-cover-preview]");
    const coverStatus = form.querySelector("[data-cover-status]");
    const removeCover = form.querySelector("[data-remove-cover]");
    const coverFile = form.elements.cover_file;

    function showCover(url) {
      if (!coverPreview) return;
      const usable = /^https:\/\/\S+$/.test(url) || url.startsWith("/");
      if (usable) coverPreview.src = url;
      coverPreview.hidden = !usable;
      if (removeCover) removeCover.hidden = !url;
    }

    if (coverField && coverPreview) {
      form.querySelector("[data-remove-cover-field]").hidden = true; // the button does it here
      const removeBox = form.elements.remove_cover;
      if (removeBox) removeBox.checked = false;
      showCover(coverField.value.trim());
      coverField.addEventListener("input", () => showCover(coverField.value.trim()));
      removeCover.addEventListener("click", () => {
        coverField.value = "";
        coverField.dispatchEvent(changed());
        showCover("");
        say(coverStatus, "The cover is removed: save to keep it so.");
        coverField.focus();
      });
      coverFile?.addEventListener("change", async () => {
        const [file] = coverFile.files;
        coverFile.value = "";
        if (!file) return;
        say(coverStatus, `Uploading ${file.name}…`);
        try {
          const image = await upload(file);
          coverField.value = image.url;
          coverField.dispatchEvent(changed());
          showCover(image.url);
          say(coverStatus, "The cover is uploaded: save to keep it.");
        } catch (error) {
          say(coverStatus, `The cover was not uploaded: ${error.message}`, true);
        }
      });
    }

    // --- Phones: Write and Preview as tabs -------------------------------------------------
    const tabs = form.querySelector("[data-editor-tabs]");
    if (tabs && preview) {
      const buttons = [...tabs.querySelectorAll("[data-tab]")];
      const show = (name) => {
        form.dataset.tab = name;
        for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.tab === name));
        if (name === "preview") refreshPreview();
      };
      for (const button of buttons) button.addEventListener("click", () => show(button.dataset.tab));
      tabs.hidden = false;
      show("write");
    }

    // A conflict or a question takes the focus, so it is read first.
    form.querySelector("[data-focus-on-load] [tabindex='-1']")?.focus();
  }

  // Times the server wrote in its own zone (UTC), shown in the reader's.
  function localTimes() {
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    for (const element of document.querySelectorAll("time[data-local-time]")) {
      const moment = new Date(element.getAttribute("datetime"));
      if (!Number.isNaN(moment.getTime())) {
        element.title = element.textContent.trim();
        element.textContent = format.format(moment);
      }
    }
  }

  // The header menu (phones) works without this; here Escape and a click elsewhere close it.
  function setupMenu(menu) {
    document.addEventListener("click", (event) => {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  function start() {
    forgetSavedDraft();
    localTimes();
    const menu = document.querySelector("[data-nav-menu]");
    if (menu) setupMenu(menu);
    const editor = document.getElementById("editor");
    if (editor) setupEditor(editor);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// --- Claps, saves and follows without a reload --------------------------------------------------
// The clap and follow buttons are ordinary forms (POST, then a redirect back with a message).
// Here the same POST goes by fetch asking for JSON, and the page changes in place: the pressed
// state, the label and the counts. Anything unexpected (signed out, an expired form, the
// server down) sends the form the ordinary way instead, so the server's page explains.
(() => {
  function setPressed(button, pressed, onValue, offValue) {
    button.setAttribute("aria-pressed", String(pressed));
    // The button says what the next press asks for, so a double submit never undoes itself.
    button.value = pressed ? offValue : onValue;
  }

  function showClap(form, data) {
    setPressed(form.querySelector("button[name=action]"), data.clapped, "clap", "unclap");
    const count = form.querySelector("[data-count]");
    if (count) count.textContent = data.count_text;
  }

  function showSave(form, data) {
    const button = form.querySelector("button[name=action]");
    setPressed(button, data.saved, "save", "unsave");
    const label = button.querySelector("[data-label]");
    if (label) label.textContent = data.saved ? label.dataset.on : label.dataset.off;
  }

  function showFollow(data) {
    // An author can have several follow buttons on a page (the byline and the author box).
    for (const form of document.querySelectorAll('form[data-social="follow"]')) {
      if (form.dataset.username !== data.username) continue;
      const button = form.querySelector("button[name=action]");
      setPressed(button, data.following, "follow", "unfollow");
      const label = button.querySelector("[data-label]");
      if (label) label.textContent = data.following ? label.dataset.on : label.dataset.off;
    }
    for (const count of document.querySelectorAll("[data-follower-count]")) {
      if (count.dataset.followerCount === data.username) count.textContent = data.count_text;
    }
  }

  async function send(form, submitter) {
    // Not form.action: the button named "action" shadows that property.
    const url = new URL(form.getAttribute("action"), document.baseURI);
    const response = await fetch(url, {
      method: "POST",
      body: new FormData(form, submitter), // the form's CSRF token and the button's action
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.includes("application/json")) {
      throw new Error(`${url.pathname} answered ${response.status}`);
    }
    return response.json();
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.social || form.dataset.plain) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // one request at a time
    const submitter = event.submitter;
    form.setAttribute("aria-busy", "true");
    try {
      const data = await send(form, submitter);
      if (form.dataset.social === "clap") showClap(form, data);
      else if (form.dataset.social === "save") showSave(form, data);
      else showFollow(data);
    } catch {
      form.dataset.plain = "true";
      form.requestSubmit(submitter);
    } finally {
      form.removeAttribute("aria-busy");
    }
  });
})();

// --- The bell's count without a reload ---------------------------------------------------
// Once a minute while the tab is shown (never while it is hidden), ask API v1 (the session
// signs the request) for the unread count, and show it in the bell.
(() => {
  const EVERY_MS = 60_000;

  function show(bell, unread) {
    let count = bell.querySelector(".bell-count");
    if (unread > 0 && !count) {
      count = document.createElement("span");
      count.className = "bell-count";
      count.setAttribute("aria-hidden", "true");
      bell.append(count);
    }
    if (count) {
      if (unread > 0) count.textContent = String(unread);
      else count.remove();
    }
    bell.querySelector(".visually-hidden").textContent =
      unread > 0 ? `Notifications, ${unread} unread` : "Notifications";
  }

  async function refresh(bell) {
    if (document.hidden) return;
    try {
      const response = await fetch(bell.dataset.bell, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) show(bell, (await response.json()).unread);
    } catch {
      // Offline or the server restarting: the next minute tries again.
    }
  }

  const bell = document.querySelector("[data-bell]");
  if (!bell || !bell.dataset.bell) return;
  setInterval(() => refresh(bell), EVERY_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh(bell);
  });
})();
