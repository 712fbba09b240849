// Quill's small enhancements. Every page works without this file; it adds the editor's live
// preview and keeps what is typed in the editor on this device until the server has it.
"use strict";

(() => {
  const DRAFT_PREFIX = "quill:draft:";
  const SAVING_KEY = "quill:saving"; // sessionStorage: which draft was just submitted
  const AUTOSAVE_DELAY_MS = 400;
  const PREVIEW_DELAY_MS = 350;

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
  // the copy kept on this device dropped. A failed save or an error page keeps it.
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

  function setupEditor(form) {
    const draftKey = form.dataset.draftKey;
    const storageKey = DRAFT_PREFIX + draftKey;
    const fields = ["title", "content", "tags"].map((name) => form.elements[name]);
    const status = form.querySelector("[data-autosave-status]");
    const preview = form.querySelector("[data-preview]");
    const placeholder = preview.querySelector(".preview-empty")?.cloneNode(true);
    const notice = form.querySelector("[data-restored-notice]");

    const currentValues = () => Object.fromEntries(fields.map((field) => [field.name, field.value]));
    const fill = (values) => {
      for (const field of fields) {
        if (typeof values[field.name] === "string") field.value = values[field.name];
      }
    };
    const serverValues = currentValues();

    // --- Live preview, rendered by the server's sanitising renderer ----------------------
    let previewTimer = null;
    let previewRequest = null;

    async function refreshPreview() {
      previewRequest?.abort();
      previewRequest = new AbortController();
      const body = new FormData();
      body.append("content", form.elements.content.value);
      body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
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
    form.querySelector("[data-preview-button]").hidden = true;

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
      refreshPreview();
    });

    form.addEventListener("input", () => {
      clearTimeout(autosaveTimer);
      autosaveTimer = setTimeout(autosave, AUTOSAVE_DELAY_MS);
      schedulePreview();
    });

    // Leaving or reloading within the autosave delay must not lose the last keystrokes.
    window.addEventListener("pagehide", () => {
      if (autosaveTimer) autosave();
    });

    form.addEventListener("submit", (event) => {
      if (event.submitter?.value === "preview") {
        event.preventDefault();
        refreshPreview();
        return;
      }
      autosave();
      try {
        sessionStorage.setItem(SAVING_KEY, draftKey);
      } catch {
        // without sessionStorage the copy on this device simply stays until the next save
      }
    });

    // Ctrl+S / Cmd+S presses the first button (Save draft, or Save changes when published).
    form.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        form.requestSubmit(form.querySelector(".editor-actions button"));
      }
    });
  }

  function start() {
    forgetSavedDraft();
    const editor = document.getElementById("editor");
    if (editor) setupEditor(editor);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
