/** Saves bytes as a file through the browser's download (the link is released once the download has started). */
export function download(file: File): void {
  const url = URL.createObjectURL(file)
  const a = Object.assign(document.createElement('a'), { href: url, download: file.name })
  a.click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
