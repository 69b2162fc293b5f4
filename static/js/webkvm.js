// webkvm's pages work without this script; it adds confirmation of
// destructive actions, the menu on small screens, and live VM states.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  // A button or form with data-confirm asks before it submits.
  document.addEventListener('click', (ev) => {
    const el = ev.target.closest('[data-confirm]');
    if (el && !window.confirm(el.dataset.confirm)) {
      ev.preventDefault();
    }
  });

  document.querySelectorAll('[data-toggle-nav]').forEach((btn) => {
    btn.addEventListener('click', () => {
      const nav = document.getElementById(btn.dataset.toggleNav);
      const open = nav.classList.toggle('show');
      btn.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  });

  const table = document.getElementById('vm-table');
  const page = document.getElementById('vm-page');
  if (table) {
    poll('/instances.json', (states) => {
      table.querySelectorAll('.vm-row[data-vm]').forEach((row) => {
        const s = states[row.dataset.vm];
        if (s) showState(row, s);
      });
    });
  } else if (page) {
    poll('/instance/' + encodeURIComponent(page.dataset.vm) + '/state.json', (s) => {
      showState(document, s);
    });
  }
});

// Ask url every 3 s; polling does not keep the session alive (the header says so).
function poll(url, apply) {
  const tick = () => {
    fetch(url, { headers: { 'X-Requested-With': 'poll' }, credentials: 'same-origin' })
      .then((res) => {
        if (res.status === 401) {
          window.location.assign('/login');
          return null;
        }
        return res.ok ? res.json() : null;
      })
      .then((data) => { if (data) apply(data); })
      .catch(() => {})
      .finally(() => { window.setTimeout(tick, 3000); });
  };
  window.setTimeout(tick, 3000);
}

// s: {state, st: {badge, running, paused, off, not_responding}, addresses (in the list)}
function showState(root, s) {
  const st = s.st || {};
  const cell = root.querySelector('.vm-addresses');
  if (cell && Array.isArray(s.addresses) && cell.textContent !== s.addresses.join('')) {
    cell.replaceChildren(...s.addresses.map((a) => {
      const line = document.createElement('div');
      line.textContent = a;
      return line;
    }));
  }
  const badge = root.querySelector('.vm-state');
  if (badge) {
    badge.textContent = s.state + (st.not_responding ? ' (not responding)' : '');
    badge.className = 'badge bg-' + st.badge + ' vm-state';
  }
  const show = { 'vm-when-off': st.off, 'vm-when-running': st.running,
                 'vm-when-paused': st.paused, 'vm-when-on': !st.off };
  root.querySelectorAll('.vm-act').forEach((btn) => {
    for (const cls in show) {
      if (btn.classList.contains(cls)) btn.hidden = !show[cls];
    }
  });
}
