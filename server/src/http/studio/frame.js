// Loaded first by every studio frame: a widget focusing its first field must not
// scroll the gallery around it.
const focus = HTMLElement.prototype.focus;
HTMLElement.prototype.focus = function (options) {
  focus.call(this, { ...options, preventScroll: true });
};
