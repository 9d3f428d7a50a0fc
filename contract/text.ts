/** At most the first `max` characters of user input, for error messages ("..." marks a cut). */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
