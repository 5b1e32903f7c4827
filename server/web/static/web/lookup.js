// Units at the caller's speed: an input with data-lookup (a start form's unit field,
// "x-lookup": "units") searches GET /api/units/ as one types and lists the matches under it;
// choosing one puts its code in the field and fills the fields its data-fills names from
// the owner file ({"reporter": "owner_name", "phone": "owner_phone"}). Filled fields stay
// editable (the caller is often not the owner), and one the user typed in is left alone.
(function () {
  "use strict";
  const WAIT_MS = 150;
  const lang = document.documentElement.lang || "zh-Hans";

  function ownerValues(unit) {
    const owner = (unit.owners || [])[0];
    return owner ? { owner_name: owner.name, owner_phone: owner.phone } : {};
  }

  function describe(unit) {
    const owners = (unit.owners || []).map((o) => o.name).join("、");
    return [unit.code, unit.building, unit.status_name, owners].filter(Boolean).join(" · ");
  }

  function setUp(input) {
    const form = input.form;
    const fills = JSON.parse(input.dataset.fills || "{}");
    const list = document.createElement("ul");
    list.className = "lookup";
    list.id = input.id + "-matches";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.setAttribute("aria-controls", list.id);
    input.insertAdjacentElement("afterend", list);
    let timer = null;
    let active = -1;
    let units = [];
    let asked = 0;

    // A field the user typed in keeps what they typed; one we filled may be filled again.
    for (const name of Object.keys(fills)) {
      const target = form.elements.namedItem(name);
      if (target) target.addEventListener("input", () => { target.dataset.filled = ""; });
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      active = -1;
    }

    function choose(unit) {
      input.value = unit.code;
      const values = ownerValues(unit);
      for (const [name, key] of Object.entries(fills)) {
        const target = form.elements.namedItem(name);
        if (!target || !(key in values)) continue;
        if (target.value === "" || target.dataset.filled === "1") {
          target.value = values[key];
          target.dataset.filled = "1";
        }
      }
      close();
    }

    function draw() {
      list.replaceChildren(...units.map((unit, i) => {
        const item = document.createElement("li");
        item.setAttribute("role", "option");
        item.id = `${list.id}-${i}`;
        item.textContent = describe(unit);
        item.setAttribute("aria-selected", i === active ? "true" : "false");
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(unit); });
        return item;
      }));
      list.hidden = units.length === 0;
      input.setAttribute("aria-expanded", units.length ? "true" : "false");
      if (active >= 0) input.setAttribute("aria-activedescendant", `${list.id}-${active}`);
    }

    async function search() {
      const q = input.value.trim();
      const mine = ++asked;
      if (!q) { units = []; draw(); return; }
      const url = `${input.dataset.lookup}?page_size=8&q=${encodeURIComponent(q)}`;
      try {
        const answer = await fetch(url, {
          headers: { Accept: "application/json", "Accept-Language": lang },
          credentials: "same-origin",
        });
        if (!answer.ok || mine !== asked) return;
        units = (await answer.json()).results;
        active = -1;
        draw();
      } catch (err) {
        units = [];  // offline or refused: the field still takes a typed code
        draw();
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, WAIT_MS);
    });
    input.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + units.length) % units.length;
        draw();
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(units[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("input[data-lookup]").forEach(setUp);
})();
