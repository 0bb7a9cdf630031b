// Small progressive enhancements: tables as cards on phones, category search, select-all, live
// template preview.
(function () {
  function debounce(fn, ms) { let t; return function () { clearTimeout(t); const a = arguments; t = setTimeout(() => fn.apply(this, a), ms); }; }
  document.addEventListener("DOMContentLoaded", function () {
    // narrow screens show table rows as cards: each cell names its column (style.css)
    document.querySelectorAll("main table").forEach(function (table) {
      const heads = Array.from(table.querySelectorAll("thead th")).map(function (th) { return th.textContent.trim(); });
      if (!heads.length) return;
      table.classList.add("cards");
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.from(tr.children).forEach(function (cell, i) {
          if (cell.tagName !== "TD" || cell.colSpan !== 1) return;
          if (heads[i]) cell.dataset.label = heads[i];
          if (!cell.textContent.trim() && !cell.querySelector("img, input, button, select, a, svg")) cell.classList.add("blank");
        });
      });
    });
    document.querySelectorAll(".catpick").forEach(function (box) {
      const input = box.querySelector(".catsearch"), list = box.querySelector(".catresults");
      const id = box.querySelector("input[name=category_id]"), name = box.querySelector("input[name=category_name]");
      const chosen = box.querySelector(".catchosen");
      input.addEventListener("input", debounce(async function () {
        list.innerHTML = "";
        if (input.value.trim().length < 2) return;
        const r = await fetch(box.dataset.url + "?q=" + encodeURIComponent(input.value), { headers: { accept: "application/json" } });
        if (!r.ok) return;
        (await r.json()).categories.forEach(function (c) {
          // a button in each result, so the keyboard reaches it (Tab, or the arrow keys below)
          const li = document.createElement("li"), pick = document.createElement("button");
          pick.type = "button"; pick.textContent = c.path; li.dataset.id = c.id; li.appendChild(pick);
          li.addEventListener("click", function () { id.value = c.id; name.value = c.name; chosen.textContent = c.path; list.innerHTML = ""; input.value = c.name; input.focus(); });
          list.appendChild(li);
        });
      }, 200));
      box.addEventListener("keydown", function (e) {
        const picks = Array.from(list.querySelectorAll("button")), at = picks.indexOf(document.activeElement);
        if (e.key === "ArrowDown" && picks.length) { e.preventDefault(); picks[Math.min(at + 1, picks.length - 1)].focus(); }
        else if (e.key === "ArrowUp" && at >= 0) { e.preventDefault(); (at === 0 ? input : picks[at - 1]).focus(); }
        else if (e.key === "Escape" && list.children.length) { e.preventDefault(); list.innerHTML = ""; input.focus(); }
      });
    });
    document.querySelectorAll("input.all").forEach(function (all) {
      all.addEventListener("change", function () { all.closest("form").querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = all.checked; }); });
    });
    const preview = document.getElementById("preview");
    if (preview) {
      const form = preview.closest("form");
      const update = debounce(async function () {
        const body = new URLSearchParams();
        body.set("csrf_token", form.querySelector("input[name=csrf_token]").value);
        form.querySelectorAll(".tpl").forEach(function (el) { body.set(el.name, el.value); });
        const r = await fetch(preview.dataset.url, { method: "POST", body: body });
        const data = await r.json();
        preview.querySelector(".perror").textContent = data.error || "";
        if (!data.error) { preview.querySelector(".ptitle").textContent = data.title; preview.querySelector(".pdesc").textContent = data.description; }
      }, 250);
      form.querySelectorAll(".tpl").forEach(function (el) { el.addEventListener("input", update); });
      update();
    }
  });
})();
