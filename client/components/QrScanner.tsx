import { onCleanup, onMount } from 'solid-js'

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>
}
type DetectorCtor = new (options: { formats: string[] }) => Detector

/** Whether this browser can read QR codes from the camera (Chrome on Android can). */
export const canScanQr = (): boolean => typeof window !== 'undefined' && 'BarcodeDetector' in window && !!navigator.mediaDevices?.getUserMedia

/** Reads one QR code from the camera with the browser's BarcodeDetector, then stops the camera. */
export function QrScanner(props: { label: string; onCode: (code: string) => void; onError: () => void }) {
  let video!: HTMLVideoElement
  let stream: MediaStream | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  const stop = () => {
    clearInterval(timer)
    stream?.getTracks().forEach((t) => t.stop())
  }
  onMount(async () => {
    try {
      const Ctor = (window as unknown as { BarcodeDetector: DetectorCtor }).BarcodeDetector
      const detector = new Ctor({ formats: ['qr_code'] })
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })
      video.srcObject = stream
      await video.play()
      timer = setInterval(async () => {
        const [found] = await detector.detect(video).catch(() => [])
        if (found?.rawValue) {
          stop()
          props.onCode(found.rawValue)
        }
      }, 300)
    } catch {
      stop()
      props.onError()
    }
  })
  onCleanup(stop)
  return <video ref={(el) => (video = el)} class="scanner" aria-label={props.label} muted playsinline />
}
