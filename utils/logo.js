/* CombMotif sequence logos.
 *
 * Draws every <canvas class="logo" data-key="..."> from the JSON object in
 * <script type="application/json" id="logo-data">, keyed by data-key:
 *   {ppm: [[pA, pC, pG, pT], ...], rna: true, highlight: [[start, end], ...],
 *    shift: 0, width: 20, mode: "bits" | "prob", axis: true, label: "..."}
 * `shift` leaves that many empty columns before the motif (to align two logos),
 * `width` is the number of columns the canvas is laid out for.
 *
 * Letter heights: probability x information content (bits, uniform background),
 * or probability alone in "prob" mode. Click a logo to switch modes; hover for
 * the numbers of a position. No libraries and no network: pages open from disk.
 *
 * After drawing, each canvas gets data-ink = the number of coloured (letter)
 * pixels, which the browser test reads from the DOM.
 */
(function () {
  "use strict";

  var COLORS = {A: [0, 128, 0], C: [0, 0, 255], G: [255, 165, 0], T: [255, 0, 0], U: [255, 0, 0]};
  var FONT = "bold 100px Helvetica, Arial, sans-serif";
  var glyphCache = {};

  function information(col) {
    var h = 0;
    for (var i = 0; i < 4; i++) {
      if (col[i] > 0) h -= col[i] * Math.log(col[i]) / Math.LN2;
    }
    return Math.max(0, 2 - h);
  }

  // The ink box of a glyph at FONT size, measured once per letter.
  function glyphBox(ctx, ch) {
    if (glyphCache[ch]) return glyphCache[ch];
    ctx.save();
    ctx.font = FONT;
    var m = ctx.measureText(ch);
    ctx.restore();
    var box = {
      left: m.actualBoundingBoxLeft || 0,
      width: (m.actualBoundingBoxLeft || 0) + (m.actualBoundingBoxRight || m.width),
      ascent: m.actualBoundingBoxAscent || 72,
      descent: m.actualBoundingBoxDescent || 0
    };
    glyphCache[ch] = box;
    return box;
  }

  // Stretch one letter so its ink fills the box (x, y, w, h) exactly.
  function drawGlyph(ctx, ch, x, y, w, h) {
    if (h < 0.4 || w <= 0) return;
    var b = glyphBox(ctx, ch);
    var c = COLORS[ch] || [80, 80, 80];
    ctx.save();
    ctx.font = FONT;
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillStyle = "rgb(" + c[0] + "," + c[1] + "," + c[2] + ")";
    ctx.translate(x, y + h);
    ctx.scale(w / b.width, h / (b.ascent + b.descent));
    ctx.fillText(ch, b.left, -b.descent);
    ctx.restore();
  }

  function layout(canvas, spec) {
    var axis = spec.axis !== false;
    var left = axis ? 30 : 2, right = 4, top = spec.label ? 16 : 4, bottom = axis ? 16 : 2;
    var cols = Math.max(spec.width || 0, (spec.shift || 0) + spec.ppm.length);
    var plotW = canvas.width - left - right, plotH = canvas.height - top - bottom;
    return {left: left, top: top, bottom: bottom, cols: cols,
            colW: plotW / cols, plotW: plotW, plotH: plotH, axis: axis};
  }

  function draw(canvas, spec) {
    var ctx = canvas.getContext("2d");
    var L = layout(canvas, spec);
    var letters = spec.rna === false ? "ACGT" : "ACGU";
    var bits = (spec.mode || "bits") === "bits";
    var ymax = bits ? 2 : 1;
    var shift = spec.shift || 0;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);

    // Segment bands: light grey, so they never count as letter ink.
    (spec.highlight || []).forEach(function (r) {
      ctx.fillStyle = "#e6e6e6";
      ctx.fillRect(L.left + (shift + r[0]) * L.colW, L.top, (r[1] - r[0]) * L.colW, L.plotH);
    });

    spec.ppm.forEach(function (col, i) {
      var scale = bits ? information(col) : 1;
      var order = [0, 1, 2, 3].sort(function (a, b) { return col[a] - col[b]; });
      var y = L.top + L.plotH;
      var x = L.left + (shift + i) * L.colW + 0.06 * L.colW;
      order.forEach(function (k) {
        var h = col[k] * scale / ymax * L.plotH;
        y -= h;
        drawGlyph(ctx, letters[k], x, y, 0.88 * L.colW, h);
      });
    });

    ctx.fillStyle = "#333333";
    ctx.strokeStyle = "#555555";
    ctx.lineWidth = 1;
    ctx.font = "10px Helvetica, Arial, sans-serif";
    if (spec.label) {
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      ctx.fillText(spec.label, L.left, 2);
    }
    if (L.axis) {
      ctx.beginPath();
      ctx.moveTo(L.left - 3, L.top);
      ctx.lineTo(L.left - 3, L.top + L.plotH);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      var ticks = bits ? [0, 1, 2] : [0, 0.5, 1];
      ticks.forEach(function (t) {
        var ty = L.top + L.plotH - t / ymax * L.plotH;
        ctx.fillText(String(t), L.left - 6, ty);
      });
      ctx.save();
      ctx.translate(8, L.top + L.plotH / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(bits ? "bits" : "prob.", 0, 0);
      ctx.restore();
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      var step = spec.ppm.length > 30 ? 5 : 1;
      for (var i = 0; i < spec.ppm.length; i += step) {
        ctx.fillText(String(i + 1), L.left + (shift + i + 0.5) * L.colW, L.top + L.plotH + 3);
      }
    }
    canvas.setAttribute("data-ink", String(countInk(ctx, canvas)));
    canvas.setAttribute("data-mode", bits ? "bits" : "prob");
  }

  // Coloured pixels: letters only (axes, labels and bands are grey).
  function countInk(ctx, canvas) {
    var d;
    try {
      d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    } catch (e) {
      return -1;
    }
    var n = 0;
    for (var i = 0; i < d.length; i += 4) {
      var mx = Math.max(d[i], d[i + 1], d[i + 2]), mn = Math.min(d[i], d[i + 1], d[i + 2]);
      if (d[i + 3] > 128 && mx - mn > 60) n++;
    }
    return n;
  }

  function tooltip() {
    var tip = document.getElementById("logo-tip");
    if (!tip) {
      tip = document.createElement("div");
      tip.id = "logo-tip";
      tip.className = "logo-tip";
      document.body.appendChild(tip);
    }
    return tip;
  }

  function attach(canvas, spec) {
    var letters = spec.rna === false ? "ACGT" : "ACGU";
    canvas.addEventListener("click", function () {
      spec.mode = (spec.mode || "bits") === "bits" ? "prob" : "bits";
      draw(canvas, spec);
    });
    canvas.addEventListener("mousemove", function (ev) {
      var L = layout(canvas, spec);
      var r = canvas.getBoundingClientRect();
      var x = (ev.clientX - r.left) * canvas.width / r.width;
      var i = Math.floor((x - L.left) / L.colW) - (spec.shift || 0);
      var tip = tooltip();
      if (i < 0 || i >= spec.ppm.length) { tip.style.display = "none"; return; }
      var col = spec.ppm[i];
      var parts = [];
      for (var k = 0; k < 4; k++) parts.push(letters[k] + " " + col[k].toFixed(2));
      tip.textContent = "position " + (i + 1) + ": " + parts.join("  ") +
        "  (" + information(col).toFixed(2) + " bits)";
      tip.style.display = "block";
      tip.style.left = (ev.pageX + 12) + "px";
      tip.style.top = (ev.pageY + 12) + "px";
    });
    canvas.addEventListener("mouseleave", function () { tooltip().style.display = "none"; });
    canvas.title = "click: switch bits / probability";
  }

  function drawAll() {
    var node = document.getElementById("logo-data");
    var data = node ? JSON.parse(node.textContent) : {};
    var canvases = document.querySelectorAll("canvas.logo");
    var drawn = 0;
    for (var i = 0; i < canvases.length; i++) {
      var c = canvases[i];
      var spec = data[c.getAttribute("data-key")];
      if (!spec) { c.setAttribute("data-ink", "0"); continue; }
      draw(c, spec);
      attach(c, spec);
      drawn++;
    }
    document.body.setAttribute("data-logos-drawn", String(drawn));
  }

  // Mark each <img> as loaded or not, for the browser test and for readers
  // whose PNG files went missing.
  function checkImages() {
    var imgs = document.querySelectorAll("img");
    var ok = 0;
    for (var i = 0; i < imgs.length; i++) {
      var good = imgs[i].complete && imgs[i].naturalWidth > 0;
      imgs[i].setAttribute("data-loaded", good ? "1" : "0");
      if (good) ok++;
    }
    document.body.setAttribute("data-images-loaded", ok + "/" + imgs.length);
  }

  window.CombMotifLogo = {draw: draw, information: information};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  window.addEventListener("load", checkImages);
})();
