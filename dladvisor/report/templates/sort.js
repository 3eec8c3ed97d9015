// Sort a table by the column whose heading is clicked (or activated with Enter);
// numeric cells carry their value in data-sort; empty cells go last either way.
(function () {
  "use strict";
  function value(row, column) {
    var cell = row.cells[column];
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-sort");
    if (raw !== null) { return raw === "" ? null : parseFloat(raw); }
    var text = cell.textContent.trim();
    return text === "" || text === "-" ? null : text.toLowerCase();
  }
  function sortBy(table, heading, column) {
    var body = table.tBodies[0];
    var ascending = heading.getAttribute("aria-sort") !== "ascending";
    var headings = table.tHead.rows[0].cells;
    for (var i = 0; i < headings.length; i++) { headings[i].removeAttribute("aria-sort"); }
    heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      return { row: row, key: value(row, column), index: index };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        return a.key === b.key ? a.index - b.index : (a.key === null ? 1 : -1);
      }
      var x = a.key, y = b.key;
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      var order = x < y ? -1 : (x > y ? 1 : 0);
      return (ascending ? order : -order) || a.index - b.index;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var headings = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headings, function (heading, column) {
      heading.tabIndex = 0;
      heading.addEventListener("click", function () { sortBy(table, heading, column); });
      heading.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, heading, column);
        }
      });
    });
  });
})();
