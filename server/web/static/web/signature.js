// The signature pad of a form's signature field (signature_pad, from the npm registry): a
// finger or the mouse draws, and each stroke writes the PNG into the hidden input beside
// the canvas, which the server reads as the field's file. Without JavaScript the pad stays
// hidden and the file input beneath it takes a photo of a signed paper instead.
(function () {
  "use strict";

  function setUp(box) {
    var canvas = box.querySelector("canvas");
    var input = box.querySelector("input[type=hidden]");
    var pad = new window.SignaturePad(canvas, { backgroundColor: "rgb(255, 255, 255)" });
    // The canvas is drawn at the screen's pixel density, or strokes look blurred on phones;
    // a resize (the phone turned) redraws what was signed at the new size.
    function fit() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(strokes);
    }
    pad.addEventListener("endStroke", function () {
      input.value = pad.toDataURL("image/png");
    });
    box.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
      input.value = "";
    });
    box.hidden = false;
    fit();
    window.addEventListener("resize", fit);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-signature]").forEach(setUp);
  });
})();
