/**
 * Index page: checks the room name with the server's own rule (read from the
 * page's data attributes) and goes to /chat/<room>/.
 *
 * @module
 */

const picker = document.getElementById("room-picker");
const input = document.getElementById("room-name-input");
const submit = document.getElementById("room-name-submit");
const errorBox = document.getElementById("room-name-error");

const pattern = new RegExp(picker.dataset.pattern, "u");
const maxLength = Number(picker.dataset.maxLength);

/** Returns the message to show for `name`, or "" when it is valid. */
function problemWith(name) {
  const length = [...name].length;
  if (length === 0) return picker.dataset.errorEmpty;
  if (length > maxLength) return picker.dataset.errorTooLong;
  if (!pattern.test(name)) return picker.dataset.errorInvalid;
  if (/^\.+$/.test(name)) return picker.dataset.errorDots;
  return "";
}

function enter() {
  const name = input.value.trim().normalize("NFC");
  const problem = problemWith(name);
  if (problem) {
    errorBox.textContent = problem;
    errorBox.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  globalThis.location.pathname = `/chat/${encodeURIComponent(name)}/`;
}

input.focus();
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.isComposing) enter();
});
input.addEventListener("input", () => {
  errorBox.hidden = true;
  input.removeAttribute("aria-invalid");
});
submit.addEventListener("click", enter);
