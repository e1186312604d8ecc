// GraphiQL on /api/graphql: its queries go to this very URL. To act as a
// user, put their token in the Headers tab: {"Authorization": "Token <jwt>"}
// (the token is not kept when the page closes).
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
const defaultQuery = `# The newest articles, with their authors and first comments.
{
  articles(limit: 5) {
    articlesCount
    articles {
      slug
      title
      author { username }
      comments(limit: 3) { body author { username } }
    }
  }
}
`;
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery,
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
  }),
);
