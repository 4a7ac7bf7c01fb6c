/* Ruang Tanya: how a file in a chat looks, the same in the widget and on the dashboard
 * (widgets/attachments.js, reference/dashboard-attachments.js). Images inline (alt = file name),
 * other files as a card with name and size; without a url (still sending) it is not a link yet. */
window.RuangTanyaFiles = (function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }
  function size(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "") + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
    return bytes + " B";
  }

  /* Links expire (expires_in seconds after the server built them); each page renews the shown ones. */
  function link(box, file) {
    box.href = file.url;
    box.dataset.id = file.id;
    box.dataset.expires = Date.now() + (file.expires_in || 600) * 1000;
  }

  /* `openLabel`: the translated "Open {name}" for the card's accessible name. */
  function render(file, openLabel) {
    var isImage = /^image\//.test(file.type) && file.url;
    var box = el(file.url ? "a" : "div", isImage ? "attachment attachment-image" : "attachment attachment-file");
    if (file.url) {
      link(box, file);
      box.target = "_blank";
      box.rel = "noopener noreferrer";
      if (!isImage) {
        var name = String(openLabel || "{name}").replace("{name}", function () { return file.name; });
        box.setAttribute("aria-label", name + " (" + size(file.size) + ")");
      }
    }
    if (isImage) {
      var img = el("img");
      img.src = file.url;
      img.alt = file.name;
      img.loading = "lazy";
      if (file.width && file.height) { img.width = file.width; img.height = file.height; }
      box.appendChild(img);
      return box;
    }
    box.appendChild(el("span", "attachment-icon", /pdf/.test(file.type) ? "PDF" : "IMG")).setAttribute("aria-hidden", "true");
    var text = el("span", "attachment-text");
    text.appendChild(el("span", "attachment-name", file.name));
    text.appendChild(el("span", "attachment-size", size(file.size)));
    box.appendChild(text);
    return box;
  }

  return { el: el, size: size, link: link, render: render };
})();
