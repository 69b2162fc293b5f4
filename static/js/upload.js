// Upload a file into a storage pool with a progress bar: the file's bytes
// are the body (application/octet-stream), the name is in the address,
// the page's CSRF token in a header. The portal answers with the page to
// go to, whose message says what became of the upload.
'use strict';

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('volume-upload');
  if (!form) return;
  const file = document.getElementById('u-file');
  const name = document.getElementById('u-name');
  const progress = document.getElementById('u-progress');
  const bar = document.getElementById('u-bar');
  const status = document.getElementById('u-status');
  const button = form.querySelector('button[type=submit]');

  file.addEventListener('change', () => {
    if (file.files.length && !name.value) name.value = file.files[0].name;
  });

  const show = (pct, text) => {
    progress.classList.remove('d-none');
    progress.setAttribute('aria-valuenow', String(pct));
    bar.style.width = `${pct}%`;
    status.textContent = text;
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!file.files.length || !name.value) return;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${form.dataset.action}?name=${encodeURIComponent(name.value)}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-CSRF-Token', form.dataset.csrf);
    xhr.setRequestHeader('X-Requested-With', 'upload');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) {
        const pct = Math.floor((e.loaded * 100) / e.total);
        show(pct, `${pct}% sent`);
      }
    });
    xhr.upload.addEventListener('load', () => show(100, 'Sent; the portal is copying it into the pool...'));
    xhr.addEventListener('load', () => {
      let answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (e) { /* not JSON: an error page of nginx */ }
      if (answer.location) {
        window.location.assign(answer.location);
        return;
      }
      button.disabled = false;
      status.textContent = `The upload failed: ${answer.message || `HTTP ${xhr.status}`}`;
    });
    xhr.addEventListener('error', () => {
      button.disabled = false;
      status.textContent = 'The upload was cut off; nothing was kept.';
    });
    button.disabled = true;
    show(0, 'Starting...');
    xhr.send(file.files[0]);
  });
});
