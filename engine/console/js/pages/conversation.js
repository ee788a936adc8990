// Placeholder: the conversation page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'conversation',
  path: '#/conversations/:id',
  nav: null,
  title: 'conversation',
  scopes: [],
  render(main) {
    main.append(heading('conversation'), h('p', {}, 'Not built yet.'));
  },
};
