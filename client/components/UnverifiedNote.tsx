import { t } from '../i18n/index.ts'

/**
 * Said on a member's posts and profile when their feed holds changes not signed by them (a forgery
 * passed on by a file or a direct link): what is shown is their last valid version.
 */
export function UnverifiedNote(props: { name: string }) {
  return (
    <p class="unverified" role="note">
      {t('feed.unverified', { name: props.name })}
    </p>
  )
}
