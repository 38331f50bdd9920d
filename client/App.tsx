import { LinkDevice } from './views/LinkDevice.tsx'
import { Conversation } from './views/Conversation.tsx'
import { Neighbours } from './views/Neighbours.tsx'
import { Route, Router } from '@solidjs/router'
import { Layout } from './views/Layout.tsx'
import { Home } from './views/Home.tsx'
import { CreateNeighbourhood } from './views/CreateNeighbourhood.tsx'
import { Join } from './views/Join.tsx'
import { NewPost } from './views/NewPost.tsx'
import { Invite } from './views/Invite.tsx'
import { Settings } from './views/Settings.tsx'
import { OpenNeeds } from './views/OpenNeeds.tsx'
import { PostPage } from './views/PostPage.tsx'
import { EditPost } from './views/EditPost.tsx'
import { ShareFile } from './views/ShareFile.tsx'
import { Direct } from './views/Direct.tsx'
import { Restore } from './views/Restore.tsx'

export function App() {
  return (
    <Router root={Layout}>
      <Route path="/" component={Home} />
      <Route path="/create" component={CreateNeighbourhood} />
      <Route path="/join/:id" component={Join} />
      <Route path="/new" component={NewPost} />
      <Route path="/invite" component={Invite} />
      <Route path="/voisins" component={Neighbours} />
      <Route path="/messages/:member" component={Conversation} />
      <Route path="/settings" component={Settings} />
      <Route path="/besoins" component={OpenNeeds} />
      <Route path="/post/:feed/:id" component={PostPage} />
      <Route path="/post/:feed/:id/edit" component={EditPost} />
      <Route path="/share" component={ShareFile} />
      <Route path="/direct" component={Direct} />
      <Route path="/restore" component={Restore} />
      <Route path="/relier" component={LinkDevice} />
      <Route path="*" component={Home} />
    </Router>
  )
}
