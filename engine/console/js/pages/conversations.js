// Placeholder: the conversations page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'conversations',
  path: '#/conversations',
  nav: 'nav.conversations',
  title: 'conversations',
  scopes: [],
  render(main) {
    main.append(heading('conversations'), h('p', {}, 'Not built yet.'));
  },
};
